/* curl_post.c - the baseline for a login's first request: one bare libcurl
 * POST from a fresh process, for `make bench`. It links libcurl only.
 *
 *   curl_post URL TRUST FORM
 *   pam_post CONFDIR SERVICE URL TRUST FORM
 *
 * pam_post is this file built with BENCH_CALLER_START, linking libpam too:
 * the start of a PAM caller (libpam loaded, pam_start_confdir of SERVICE
 * in CONFDIR and its pam_authenticate: pam_permit) before the same POST,
 * so that a login counted from the caller's fork has a baseline that
 * starts as the caller does, and the ratio shows what pam_aad adds.
 *
 * posts FORM to URL on a fresh handle, verifying the peer as libcurl does
 * by default, with trust anchors from TRUST:
 *   dir:PATH   CURLOPT_CAPATH=PATH, CURLOPT_CAINFO unset (a hashed
 *              directory, what pam_aad uses without ca_file)
 *   file:PATH  CURLOPT_CAINFO=PATH, CURLOPT_CAPATH unset (a bundle, or a
 *              one-certificate ca_file)
 * and prints "done T_MAIN T_END HTTP_STATUS CPU_S MAXRSS_KIB": CLOCK_MONOTONIC
 * seconds at the start of main and when the whole answer is in (so that the
 * bench can subtract the time it forked: exec and library loading count, as
 * for the PAM caller it is compared with), then this process's CPU time so
 * far (the bench counts wait4's instead, exec to exit, as for a login) and
 * peak RSS. Exit status 1 when the request fails. */
#include "config.h"

#include "bench_clock.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#ifdef BENCH_CALLER_START
#include <security/pam_appl.h>
#endif


static size_t discard(char *data, size_t size, size_t nmemb, void *userp)
{
    (void)data;
    (void)userp;
    return size * nmemb;
}

#ifdef BENCH_CALLER_START
static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                           void *appdata)
{
    (void)n;
    (void)msg;
    (void)resp;
    (void)appdata;
    return PAM_CONV_ERR;
}

/* What every PAM caller does before any module speaks: 0 when pam_permit
 * said yes. */
static int caller_start(const char *confdir, const char *service, pam_handle_t **pamh)
{
    struct pam_conv conv = {no_conversation, NULL};
    int rc = pam_start_confdir(service, "nobody", &conv, confdir, pamh);
    return rc == PAM_SUCCESS ? pam_authenticate(*pamh, 0) : rc;
}
#endif

int main(int argc, char **argv)
{
    double t_main = bench_now_s();
#ifdef BENCH_CALLER_START
    pam_handle_t *pamh = NULL;
    if (argc != 6 || caller_start(argv[1], argv[2], &pamh) != PAM_SUCCESS) {
        fprintf(stderr, "usage: pam_post CONFDIR SERVICE URL dir:PATH|file:PATH FORM "
                        "(SERVICE: pam_permit)\n");
        return 2;
    }
    argc -= 2;
    argv += 2;
#endif
    int dir = argc == 4 && strncmp(argv[2], "dir:", 4) == 0;
    if (argc != 4 || (!dir && strncmp(argv[2], "file:", 5) != 0)) {
        fprintf(stderr, "usage: curl_post URL dir:PATH|file:PATH FORM\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (c == NULL)
        return 1;
    curl_easy_setopt(c, CURLOPT_URL, argv[1]);
    curl_easy_setopt(c, CURLOPT_CAINFO, dir ? NULL : argv[2] + 5);
    curl_easy_setopt(c, CURLOPT_CAPATH, dir ? argv[2] + 4 : NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, argv[3]);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode res = curl_easy_perform(c);
    double t_end = bench_now_s();
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("done %.9f %.9f %ld %.6f %ld\n", t_main, t_end, status,
           (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6,
           ru.ru_maxrss);
    curl_easy_cleanup(c);
    curl_global_cleanup();
#ifdef BENCH_CALLER_START
    pam_end(pamh, PAM_SUCCESS);
#endif
    return res == CURLE_OK && status == 200 ? 0 : 1;
}
