/* seccomp_export - run once when pam_aad is built: writes on stdout the
 * helper's seccomp filter as libseccomp makes it from helper/confine_rules.c,
 * as a C array for helper/confine.c (confine_filter.h). Every login then
 * loads that array instead of having libseccomp make the same filter again.
 *
 * It runs on the machine that builds, so it describes that machine's
 * architecture: configure does not use it when cross-compiling.
 *
 * Where it runs: at build time only. */
#include "config.h"

#include <stdio.h>
#include <linux/filter.h>

#include "confine_rules.h"

int main(void)
{
    static struct sock_filter insn[BPF_MAXINSNS];
    size_t n = confine_rules_export(insn, BPF_MAXINSNS);
    if (n == 0) {
        fprintf(stderr, "seccomp_export: libseccomp cannot make the helper's filter\n");
        return 1;
    }
    printf("/* Made by helper/seccomp_export from helper/confine_rules.c when pam_aad\n"
           " * was built, for this architecture: do not edit. */\n"
           "static const struct sock_filter confine_helper_filter[%zu] = {\n",
           n);
    for (size_t i = 0; i < n; i++)
        printf("    {0x%04x, %u, %u, 0x%08x},\n", insn[i].code, insn[i].jt, insn[i].jf, insn[i].k);
    printf("};\n");
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
