/* seccomp_export - run once when pam_aad is built: writes on stdout the
 * helper's seccomp filter as libseccomp makes it from helper/confine_rules.c,
 * as a C array for helper/confine.c (confine_filter.h). Every login then
 * loads that array instead of having libseccomp make the same filter again.
 *
 * It runs on the machine that builds, so it describes that machine's
 * architecture: configure does not use it when cross-compiling. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>

#include "confine_rules.h"

int main(void)
{
    scmp_filter_ctx ctx = confine_rules_helper();
    FILE *bpf = tmpfile();
    if (ctx == NULL || bpf == NULL || seccomp_export_bpf(ctx, fileno(bpf)) != 0) {
        fprintf(stderr, "seccomp_export: libseccomp cannot make the helper's filter\n");
        return 1;
    }
    seccomp_release(ctx);
    static struct sock_filter insn[BPF_MAXINSNS + 1];
    rewind(bpf);
    size_t n = fread(insn, sizeof(insn[0]), BPF_MAXINSNS + 1, bpf);
    fclose(bpf);
    if (n == 0 || n > BPF_MAXINSNS) {
        fprintf(stderr, "seccomp_export: the filter has %zu instructions\n", n);
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
