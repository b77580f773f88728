//! Compiles the long double helper (INCRBYFLOAT's arithmetic, see csrc/long_double.c).

fn main() {
    println!("cargo:rerun-if-changed=csrc/long_double.c");
    cc::Build::new()
        .file("csrc/long_double.c")
        .warnings(true)
        .compile("snapkv_long_double");
}
