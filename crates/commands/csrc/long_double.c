/* Redis 7.0's long double arithmetic for INCRBYFLOAT (and HINCRBYFLOAT): parse with
 * string2ld (strtold), add in long double, format with ld2string(LD_STR_HUMAN)
 * ("%.17Lf" with trailing zeroes trimmed). Rust has no long double, and f64 gives
 * different digits, so this is done by the C library exactly as Redis does it. */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis's string2ld (util.c). */
static int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;

    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' ||
        (errno == ERANGE &&
         (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;

    if (dp) *dp = value;
    return 1;
}

/* Redis's ld2string in LD_STR_HUMAN mode, for finite values. Returns the length, 0 if
 * it does not fit. */
static size_t ld2string_human(char *buf, size_t len, long double value) {
    int n = snprintf(buf, len, "%.17Lf", value);
    if (n < 0 || (size_t)n + 1 > len) return 0;
    size_t l = (size_t)n;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

/* value + incr. Returns 0 on success (the result in out[0..*outlen]), 1 if value is
 * not a valid float, 2 if incr is not, 3 if the sum is NaN or infinite. */
int snapkv_ld_add(const char *value, size_t value_len, const char *incr, size_t incr_len,
                  char *out, size_t out_cap, size_t *out_len) {
    long double v, i;
    if (!string2ld(value, value_len, &v)) return 1;
    if (!string2ld(incr, incr_len, &i)) return 2;
    v += i;
    if (isnan(v) || isinf(v)) return 3;
    *out_len = ld2string_human(out, out_cap, v);
    return 0;
}
