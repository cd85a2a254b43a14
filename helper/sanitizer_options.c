/* sanitizer_options.c - in a sanitizer build (configure
 * --enable-sanitizers) only: the confined programs (pam_aad_helper,
 * pam_aad_group_writer) run without LeakSanitizer's exit check.
 *
 * LeakSanitizer stops the process at exit with a tracer thread (clone and
 * ptrace), which their seccomp allowlist refuses: the check then fails and
 * the program exits 1 after a successful verdict, which the module rightly
 * takes for a failure. Their environment is fixed, so ASAN_OPTIONS cannot
 * reach them; this is the sanitizer's documented hook for defaults. Their
 * leaks are checked by the valgrind gate (.ci/gates.sh), which follows
 * every helper and writer the module executes; ASan and UBSan still check
 * every access here.
 *
 * Where it runs: in pam_aad_helper and pam_aad_group_writer, root's
 * confined programs. */
#include "config.h"

#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif
