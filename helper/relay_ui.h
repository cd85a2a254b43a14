/* relay_ui.h - struct aad_ui and struct aad_log over the socket to
 * pam_aad.so: the helper asks the module to talk to the user.
 *
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
#ifndef RELAY_UI_H
#define RELAY_UI_H

#include "aad_base.h"
#include "aad_login.h"

struct relay {
    int fd;
    int listening; /* the module is waiting for us (not in a prompt): keep it informed */
    int entered;   /* the user answered the latest prompt since the last pause */
    long last_left; /* seconds left last sent in a WAITING message */
    int prompts_open; /* prompts sent that the module has not answered (ENTERED) yet */
    int verdict_sent;
};

/* The front end for aad_login: show_code sends the code and returns at
 * once; pause waits on the socket (and hears the user's Enter); alive
 * tells a listening module that a network exchange begins. When the
 * module is gone (the caller ended) the helper ends at once. */
struct aad_ui relay_ui(struct relay *r, int qr_ok);

/* Sends the verdict (once: later calls do nothing). The login sends it as
 * soon as it is decided (struct aad_ui's decided); the helper's main for a
 * login that ended before. */
void relay_verdict(struct relay *r, enum aad_status st, const struct aad_error *err,
                   const struct aad_identity *id, const struct aad_login_session *session);

/* Log lines go to the module, which writes them with pam_syslog. */
struct aad_log relay_log(struct relay *r, int debug);

#endif
