/* INCRBYFLOAT / HINCRBYFLOAT arithmetic exactly as Redis 7.0 does it: operands parsed with
 * strtold, added in long double, formatted with "%.17Lf" and trailing zeroes trimmed
 * (ld2string with LD_STR_HUMAN). Rust has no long double, and f64 gives other digits. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis's string2ld: no leading space, nothing but the number up to
 * the first NUL (so "1\0x" is 1, as in Redis), not NaN, and no overflow or underflow
 * to zero (ERANGE). */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *eptr;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long double v = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' ||
        (errno == ERANGE &&
         (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Returns 0 on success (text in out, its length in *written), 1 if the current value is
 * not a float, 2 if the increment is not a float, 3 if the result is NaN or infinite. */
int snapkv_ld_incr(const char *cur, size_t cur_len, int has_cur, const char *incr,
                   size_t incr_len, char *out, size_t out_len, size_t *written) {
    long double a = 0, b = 0;
    if (has_cur && !parse_ld(cur, cur_len, &a)) return 1;
    if (!parse_ld(incr, incr_len, &b)) return 2;
    long double v = a + b;
    if (isnan(v) || isinf(v)) return 3;
    int l = snprintf(out, out_len, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > out_len) return 3;
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') { out[0] = '0'; l = 1; }
    *written = (size_t)l;
    return 0;
}
