/* syslog_capture.c - an LD_PRELOAD shim for tests: every syslog line the
 * process writes is appended to $SYSLOG_CAPTURE_FILE instead, so tests can
 * assert what the module logs (and that it never logs a secret). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

void openlog(const char *ident, int option, int facility);
void closelog(void);
void vsyslog(int priority, const char *fmt, va_list ap);
void syslog(int priority, const char *fmt, ...);
void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap);
void __syslog_chk(int priority, int flag, const char *fmt, ...);

void openlog(const char *ident, int option, int facility)
{
    (void)ident;
    (void)option;
    (void)facility;
}

void closelog(void)
{
}

void vsyslog(int priority, const char *fmt, va_list ap)
{
    const char *path = getenv("SYSLOG_CAPTURE_FILE");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (f == NULL)
        return;
    fprintf(f, "<%d> ", priority);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fclose(f);
}

void syslog(int priority, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsyslog(priority, fmt, ap);
    va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    vsyslog(priority, fmt, ap);
}

void __syslog_chk(int priority, int flag, const char *fmt, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, fmt);
    vsyslog(priority, fmt, ap);
    va_end(ap);
}
