/* curl_post.c - the baseline for the time to code: one bare libcurl POST
 * from a fresh process, for `make bench`. It links libcurl only.
 *
 *   curl_post URL CA_FILE FORM
 *
 * posts FORM to URL (a fresh handle, CA_FILE as the only trust anchor) and
 * prints "done T_MAIN T_END HTTP_STATUS" on stdout: CLOCK_MONOTONIC seconds
 * at the start of main and when the whole answer is in, so that the bench
 * can subtract the time it forked (exec and library loading included, as
 * for the PAM caller it is compared with). Exit status 1 when the request
 * fails. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include <curl/curl.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userp)
{
    (void)data;
    (void)userp;
    return size * nmemb;
}

int main(int argc, char **argv)
{
    double t_main = now_s();
    if (argc != 4) {
        fprintf(stderr, "usage: curl_post URL CA_FILE FORM\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (c == NULL)
        return 1;
    curl_easy_setopt(c, CURLOPT_URL, argv[1]);
    curl_easy_setopt(c, CURLOPT_CAINFO, argv[2]);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, argv[3]);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode res = curl_easy_perform(c);
    double t_end = now_s();
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    printf("done %.9f %.9f %ld\n", t_main, t_end, status);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return res == CURLE_OK && status == 200 ? 0 : 1;
}
