/* aad_check.c - `aad-login --check`: everything that can be checked
 * without a user signing in, each failure classified as configuration or
 * outage with a hint for its cause.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aad_check_domains.h"
#include "aad_check_groups.h"
#include "aad_check_pam.h"
#include "aad_check_report.h"
#include "aad_check_session.h"
#include "aad_check_sshcert.h"
#include "aad_check_sync.h"
#include "aad_check_sshd.h"
#include "aad_devflow.h"
#include "aad_http.h"
#include "aad_keys.h"
#include "aad_spawn.h"
#include "aad_trust.h"
#include "aad_usermap.h"

#define HINT_MAX 512
#define SSHD_TIMEOUT_S 10
/* Beyond this a clock is reported, even within half of clock_skew. */
#define CLOCK_WARN_S 60

/* How --check's requests are told apart from a login's in Entra ID's sign-in
 * logs, and by the emulator (whose stand-in user never approves them): the
 * device code it asks for is discarded unseen. */
#define CHECK_USER_AGENT PACKAGE_NAME "/" PACKAGE_VERSION " (aad-login --check; code discarded)"

static const char *const not_checked[] = {
    "Conditional Access, security defaults and Microsoft-managed policies are decided only "
    "when a user signs in (so are MFA and the user's groups and roles): try one real sign-in "
    "with 'aad-login USER'.",
    "'Allow public client flows' of the app registration: when it is off, Entra ID still "
    "hands out device codes and refuses only the token, after the user signed in "
    "(AADSTS7000218), which --check cannot ask for without a user: 'aad-login USER' shows it.",
};

/* Only a token shows what the groups claim carries (admin guide, section 15). */
static const char *const groups_claim_unchecked =
    "the format of the token's groups claim: group_map and allowed_groups need object IDs "
    "(the app registration's groups claim emitting 'Group ID'); names (sAMAccountName, "
    "display names) would let anyone who may create a group match an object ID by naming a "
    "group after it.";

static double ms_since(int64_t start)
{
    return (double)(aad_monotonic_ms() - start);
}

const char *aad_check_classify(const struct aad_config *cfg, const struct aad_error *err,
                               char *hint, size_t size)
{
    long code = err->aadsts;
    if (cfg == NULL || err->kind == AAD_FAILURE_BAD_CONFIG) {
        snprintf(hint, size, "Fix the file and line named here: pam_aad.conf(5) lists every key "
                             "and the values it takes.");
        return "configuration_file";
    }
    switch (err->kind) {
    case AAD_FAILURE_CA_FILE:
        snprintf(hint, size,
                 "ca_file %s does not hold the CA that issued %s's certificate: remove ca_file "
                 "(the system trust store then decides), or put that CA in it (a "
                 "TLS-inspecting proxy's own CA).",
                 cfg->ca_file ? cfg->ca_file : "(none)", cfg->authority);
        return "ca_file";
    case AAD_FAILURE_SYSTEM_TRUST:
        snprintf(hint, size,
                 "The system trust store does not trust %s's certificate: behind a "
                 "TLS-inspecting proxy, add its CA (/usr/local/share/ca-certificates, then "
                 "update-ca-certificates) or name it in ca_file; otherwise reinstall "
                 "ca-certificates.",
                 cfg->authority);
        return "system_trust_store";
    case AAD_FAILURE_CLOCK:
        snprintf(hint, size, "Synchronise this host's clock: 'timedatectl' shows whether it "
                             "is; enable systemd-timesyncd or chrony.");
        return "clock";
    default:
        break;
    }
    switch (code) {
    case 90002:
        snprintf(hint, size,
                 "Entra ID at %s knows no tenant '%s': set 'tenant' to the Directory (tenant) ID "
                 "on the app registration's Overview page, or a verified domain of that tenant.",
                 cfg->authority, cfg->tenant);
        return "tenant";
    case 700016:
        snprintf(hint, size,
                 "Tenant %s has no application '%s': set 'client_id' to the Application (client) "
                 "ID on the app registration's Overview page (and 'tenant' to the tenant it is "
                 "registered in).",
                 cfg->tenant, cfg->client_id);
        return "client_id";
    case 7000218:
        snprintf(hint, size, "In the app registration, Authentication -> Advanced settings -> "
                             "Allow public client flows -> Yes: the device-code flow needs it.");
        return "public_client_flows";
    case 70011:
        snprintf(hint, size,
                 "Entra ID refuses the scope '%s': keep the default 'openid profile' (add "
                 "User.Read only for Graph group checks).",
                 cfg->scope);
        return "scope";
    case 65001:
        snprintf(hint, size, "In the app registration, API permissions -> Grant admin consent, "
                             "or let users consent to the permissions of 'scope'.");
        return "consent";
    default:
        break;
    }
    switch (err->kind) {
    case AAD_FAILURE_HOST_MISCONFIGURED:
        snprintf(hint, size,
                 "Entra ID refuses this host's request as misconfigured: look AADSTS%ld up in "
                 "the troubleshooting table of the administrator's guide.",
                 code);
        return "entra_configuration";
    case AAD_FAILURE_NO_CONVERSATION:
        snprintf(hint, size, "The terminal went away (input closed) before the sign-in ended: "
                             "run aad-login on a terminal and press Enter after signing in.");
        return "no_terminal";
    case AAD_FAILURE_UNAVAILABLE:
        break;
    default:
        snprintf(hint, size, "Entra ID refused the request (AADSTS%ld): see the troubleshooting "
                             "table of the administrator's guide.",
                 code);
        return "entra_refused";
    }
    if (code != 0) {
        snprintf(hint, size,
                 "Entra ID answered with an error that is not about this host's settings: retry "
                 "later; if it stays, give Microsoft support the trace ID in the message.");
        return "entra_error";
    }
    snprintf(hint, size,
             "No usable answer from %s within http_timeout (%ld s): check DNS, outbound HTTPS "
             "(port 443)%s%s and the clock; Entra ID's own state: https://status.azure.com.",
             cfg->authority, cfg->http_timeout, cfg->proxy ? ", the proxy setting" : "",
             cfg->ca_file ? ", that ca_file holds the CA of any TLS-inspecting proxy" : "");
    return "unreachable";
}

/* A failure: its cause and hint from the kind (cfg NULL: no configuration). */
static void report_exchange(struct aad_check_report *r, const struct aad_config *cfg,
                            const char *name, double ms, const struct aad_error *err)
{
    char hint[HINT_MAX];
    const char *cause = aad_check_classify(cfg, err, hint, sizeof(hint));
    struct aad_check_item it = {name, CHECK_FAIL, err->status, cause, err->aadsts, ms,
                                err->message, hint};
    aad_check_report_add(r, &it);
}

static void ok(struct aad_check_report *r, const char *name, double ms, const char *message)
{
    struct aad_check_item it = {name, CHECK_OK, AAD_OK, NULL, 0, ms, message, NULL};
    aad_check_report_add(r, &it);
}

/* This host's clock against the authority's (the Date of its answer): a
 * token is accepted within clock_skew, so half of it already fails logins
 * whose token arrives late in its window; a minute is worth a warning. */
static void check_clock(struct aad_check_report *r, const struct aad_config *cfg,
                        const struct aad_http *http)
{
    long offset = 0;
    char line[512], hint[HINT_MAX];
    if (!aad_http_clock_offset(http, &offset)) {
        aad_check_note(r, "clock", CHECK_SKIP, "the authority's answer carried no Date header", NULL);
        return;
    }
    long off = offset < 0 ? -offset : offset;
    if (off <= 1)
        snprintf(line, sizeof(line),
                 "this host's clock agrees with Microsoft Entra ID's (within 1 s; clock_skew %ld s)",
                 cfg->clock_skew);
    else
        snprintf(line, sizeof(line),
                 "this host's clock is %ld s %s Microsoft Entra ID's (clock_skew %ld s)", off,
                 offset < 0 ? "behind" : "ahead of", cfg->clock_skew);
    struct aad_error err = {.kind = AAD_FAILURE_CLOCK};
    aad_check_classify(cfg, &err, hint, sizeof(hint));
    if (off > cfg->clock_skew / 2)
        aad_check_fail_config(r, "clock", "clock", line, hint);
    else if (off > CLOCK_WARN_S)
        aad_check_note(r, "clock", CHECK_WARN, line, hint);
    else
        aad_check_note(r, "clock", CHECK_OK, line, NULL);
    aad_check_report_set(r, "clock", json_pack("{s:I}", "offset_s", (json_int_t)offset));
}

/* Device code (tenant, client, scope), discovery, keys: one connection.
 * The device code is discarded unseen: nobody can sign in with it. */
static void check_authority(struct aad_check_report *r, const struct aad_config *cfg)
{
    struct aad_error err = {0};
    struct aad_http *http = NULL;
    struct aad_device_code dc;
    struct aad_discovery d = {0};
    struct aad_keyset *keys = NULL;
    char *text = NULL, line[512];
    struct aad_http_options opts = {.ca_file = cfg->ca_file, .proxy = cfg->proxy,
                                    .timeout_s = cfg->http_timeout,
                                    .user_agent = CHECK_USER_AGENT};
    int64_t start = aad_monotonic_ms();
    enum aad_status st = aad_http_new(&opts, &http, &err);
    if (st == AAD_OK)
        st = aad_devflow_start(cfg, http, &dc, &err);
    if (st != AAD_OK) {
        report_exchange(r, cfg, "device code request", ms_since(start), &err);
        goto out;
    }
    aad_device_code_clear(&dc);
    snprintf(line, sizeof(line),
             "tenant %s, client_id %s and scope '%s' accepted (the code was discarded)",
             cfg->tenant, cfg->client_id, cfg->scope);
    ok(r, "device code request", ms_since(start), line);
    check_clock(r, cfg, http);

    start = aad_monotonic_ms();
    if ((st = aad_trust_fetch_discovery(cfg, http, &d, &err)) != AAD_OK) {
        report_exchange(r, cfg, "discovery document", ms_since(start), &err);
        goto out;
    }
    snprintf(line, sizeof(line), "issuer %s", d.issuer);
    ok(r, "discovery document", ms_since(start), line);
    aad_check_domains(r, cfg, http, d.tenant_id);

    start = aad_monotonic_ms();
    if ((st = aad_trust_fetch_keys(http, d.jwks_uri, &text, &keys, &err)) != AAD_OK) {
        report_exchange(r, cfg, "signing keys", ms_since(start), &err);
        goto out;
    }
    snprintf(line, sizeof(line), "%zu usable, %zu skipped", keys->count, keys->skipped);
    ok(r, "signing keys", ms_since(start), line);
out:
    if (http != NULL) {
        long requests = 0, connections = 0;
        aad_http_counters(http, &requests, &connections);
        snprintf(line, sizeof(line), "%ld HTTPS requests over %ld connection(s)", requests,
                 connections);
        aad_check_note(r, "traffic", CHECK_INFO, line, NULL);
    }
    free(text);
    aad_keyset_free(keys);
    aad_discovery_clear(&d);
    aad_http_free(http);
}

static json_t *strlist_json(const struct aad_strlist *list)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < list->count; i++)
        json_array_append_new(a, json_string(list->items[i]));
    return a;
}

/* Which identities reach which accounts, and who may log in. */
static void check_mapping(struct aad_check_report *r, const struct aad_config *cfg)
{
    char line[1024], list[768];
    json_t *mapping = json_pack("{s:o, s:I, s:b, s:o, s:o}", "domains", strlist_json(&cfg->domains),
                                "min_uid", (json_int_t)cfg->min_uid, "allow_root", cfg->allow_root,
                                "allowed_groups", strlist_json(&cfg->allowed_groups),
                                "allowed_roles", strlist_json(&cfg->allowed_roles));
    if (cfg->domains.count > 0) {
        aad_strlist_join(&cfg->domains, list, sizeof(list));
        snprintf(line, sizeof(line), "domains %s: NAME@domain -> account NAME, uid %ld or above",
                 list, cfg->min_uid);
    } else {
        snprintf(line, sizeof(line), "no domains: only user_map lines map identities");
    }
    aad_check_note(r, "mapping", CHECK_INFO, line, NULL);

    if (cfg->user_map != NULL) {
        struct aad_user_map m;
        struct aad_error err = {0};
        if (aad_user_map_read(cfg, NULL, NULL, &m, &err) == AAD_OK) {
            aad_strlist_join(&m.named, list, sizeof(list));
            snprintf(line, sizeof(line), "%s: %zu account(s) reserved for the identities listed: %s",
                     cfg->user_map, m.named.count, m.named.count ? list : "(none)");
            aad_check_note(r, "user_map", CHECK_OK, line, NULL);
            if (mapping != NULL)
                json_object_set_new(mapping, "user_map_accounts", strlist_json(&m.named));
        } else {
            aad_check_fail_config(r, "user_map", "user_map", err.message,
                        "Each line is 'localname upn' or 'localname oid:<object-id>'; the file "
                        "must be root's and not writable by group or others.");
        }
        aad_user_map_clear(&m);
        if (mapping != NULL)
            json_object_set_new(mapping, "user_map", json_string(cfg->user_map));
    }
    snprintf(line, sizeof(line), "root %s; accounts below uid %ld only through user_map",
             cfg->allow_root ? "may be mapped (allow_root = yes)" : "is never mapped (PAM_IGNORE)",
             cfg->min_uid);
    aad_check_note(r, "accounts", CHECK_INFO, line, NULL);
    if (cfg->allowed_groups.count == 0 && cfg->allowed_roles.count == 0)
        aad_check_note(r, "authorization", CHECK_WARN,
             "neither allowed_groups nor allowed_roles: every identity of the tenant that maps "
             "to an account may log in",
             "Assign an app role (allowed_roles) to the people who may log in (guide section 1).");
    aad_check_report_set(r, "mapping", mapping);
}

/* The checks pam_aad.so makes before it runs the helper. */
static void check_helper(struct aad_check_report *r, const struct aad_config *cfg,
                         const char *default_helper)
{
    const char *path = cfg->helper != NULL ? cfg->helper : default_helper;
    struct aad_error err = {0};
    int fd = -1;
    struct stat st;
    json_t *info = json_pack("{s:s}", "path", path);
    if (aad_helper_open(path, &fd, &err) != AAD_OK) {
        aad_check_fail_config(r, "helper", "helper", err.message,
                    "Reinstall libpam-aad (from source: 'make install' as root): pam_aad.so runs "
                    "every login in this helper and refuses one that is missing, not root's, or "
                    "writable by group or others.");
    } else if (fstat(fd, &st) == 0) {
        char line[4200];
        snprintf(line, sizeof(line), "%s: owner uid %lu, mode %04o: pam_aad.so will run it", path,
                 (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777));
        aad_check_note(r, "helper", CHECK_OK, line, NULL);
        if (info != NULL) {
            char mode[8];
            snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
            json_object_set_new(info, "uid", json_integer((json_int_t)st.st_uid));
            json_object_set_new(info, "mode", json_string(mode));
        }
    }
    if (fd >= 0)
        close(fd);
    if (info != NULL)
        json_object_set_new(info, "ok", json_boolean(err.status == AAD_OK));
    aad_check_report_set(r, "helper", info);
}

static void check_sshd_settings(struct aad_check_report *r, const struct aad_config *cfg,
                                const struct aad_sshd_settings *s)
{
    char line[512], hint[HINT_MAX];
    long bound = aad_config_login_bound_s(cfg);
    if (s->use_pam != 1)
        aad_check_fail_config(r, "sshd UsePAM", "sshd_usepam", "UsePAM is not yes: sshd never runs pam_aad",
                    "Install the drop-in of the guide (section 5): 'UsePAM yes'.");
    if (s->kbd_interactive != 1)
        aad_check_fail_config(r, "sshd keyboard-interactive", "sshd_kbdinteractive",
                    "KbdInteractiveAuthentication is not yes: the code cannot be shown",
                    "Set 'KbdInteractiveAuthentication yes' in a drop-in read before any other "
                    "setting of it (sshd keeps the first value it reads).");
    else
        aad_check_note(r, "sshd keyboard-interactive", CHECK_OK, "KbdInteractiveAuthentication yes", NULL);
    if (s->login_grace_time > 0 && s->login_grace_time < bound) {
        snprintf(line, sizeof(line),
                 "LoginGraceTime %ld s is shorter than a login may take (%ld s: timeout %ld s and "
                 "the exchanges before and after it): sshd cuts users off while they sign in",
                 s->login_grace_time, bound, cfg->timeout);
        snprintf(hint, sizeof(hint),
                 "Set 'LoginGraceTime %ld' (or more) in the sshd_config.d drop-in, or lower "
                 "'timeout' in pam_aad.conf.",
                 bound);
        aad_check_fail_config(r, "sshd LoginGraceTime", "sshd_logingracetime", line, hint);
    } else if (s->login_grace_time < 0) {
        aad_check_note(r, "sshd LoginGraceTime", CHECK_WARN, "sshd -T did not report LoginGraceTime",
             "Check it by hand: sshd -T | grep -i logingracetime");
    } else {
        snprintf(line, sizeof(line), "LoginGraceTime %ld s covers a login (up to %ld s)",
                 s->login_grace_time, bound);
        aad_check_note(r, "sshd LoginGraceTime", CHECK_OK,
             s->login_grace_time == 0 ? "LoginGraceTime 0 (no limit)" : line, NULL);
    }
    if (strstr(s->authentication_methods, "publickey,keyboard-interactive") != NULL) {
        snprintf(line, sizeof(line), "AuthenticationMethods %s: a key and the device code",
                 s->authentication_methods);
        aad_check_note(r, "sshd AuthenticationMethods", CHECK_OK, line, NULL);
    } else {
        snprintf(line, sizeof(line), "AuthenticationMethods %s: the device code alone lets in",
                 s->authentication_methods);
        aad_check_note(r, "sshd AuthenticationMethods", CHECK_INFO, line,
             "On a host reachable from the internet require 'AuthenticationMethods "
             "publickey,keyboard-interactive' (device-code phishing: guide section 12).");
    }
    snprintf(line, sizeof(line), "MaxAuthTries %ld, MaxStartups %s", s->max_auth_tries,
             s->max_startups);
    aad_check_note(r, "sshd limits", CHECK_INFO, line, NULL);
}

static void check_sshd(struct aad_check_report *r, const struct aad_config *cfg,
                       const struct aad_check_options *opt)
{
    const char *config = opt->sshd_config ? opt->sshd_config : "/etc/ssh/sshd_config";
    char why[768];
    /* Without pam_aad in sshd's stack only certificate logins can be ours. */
    char via[512];
    int stack = aad_check_pam_uses_pam_aad(opt->pam_sshd, via, sizeof(via));
    if (stack) {
        char line[1200];
        if (strcmp(via, opt->pam_sshd) == 0)
            snprintf(line, sizeof(line), "%s runs pam_aad", opt->pam_sshd);
        else
            snprintf(line, sizeof(line), "%s runs pam_aad (through %s)", opt->pam_sshd, via);
        aad_check_note(r, "sshd PAM stack", CHECK_OK, line, NULL);
    } else if (opt->sshd_config != NULL) {
        snprintf(why, sizeof(why), "%s does not use pam_aad", opt->pam_sshd);
        aad_check_note(r, "sshd PAM stack", CHECK_INFO, why, NULL);
        stack = 1;
    }
    if (access(opt->sshd, X_OK) != 0) {
        snprintf(why, sizeof(why), "%s is not installed", opt->sshd);
        aad_check_note(r, "sshd", CHECK_SKIP, why, NULL);
        return;
    }
    if (geteuid() != 0) {
        aad_check_note(r, "sshd", CHECK_SKIP, "'sshd -T' needs root (it reads the host keys)",
             "Run 'sudo aad-login --check'.");
        return;
    }
    struct aad_sshd_settings s;
    if (aad_sshd_effective(opt->sshd, config, SSHD_TIMEOUT_S, &s, why, sizeof(why)) != 0) {
        if (stack)
            aad_check_fail_config(r, "sshd", "sshd_config", why,
                        "Fix what sshd names (sshd -t checks the file); for 'Missing privilege "
                        "separation directory' run 'mkdir -p /run/sshd' (systemd makes it at boot).");
        else
            aad_check_note(r, "sshd", CHECK_SKIP, why, NULL);
        return;
    }
    json_t *certificates = aad_check_sshd_certificates(r, cfg, &s);
    if (!stack) {
        snprintf(why, sizeof(why), "%s does not use pam_aad (give --sshd-config to check anyway)",
                 opt->pam_sshd);
        aad_check_note(r, "sshd keyboard-interactive", CHECK_SKIP, why, NULL);
        aad_check_report_set(r, "sshd", json_pack("{s:s, s:o}", "config", config,
                                                  "certificates", certificates));
        return;
    }
    check_sshd_settings(r, cfg, &s);
    if (cfg->wait_for_enter)
        aad_check_note(r, "wait_for_enter", CHECK_OK, "yes: the user presses Enter after signing in", NULL);
    else
        aad_check_note(r, "wait_for_enter", CHECK_WARN,
             "no: ignored under sshd, which would show the code only after the login "
             "(pam_aad waits for Enter there and logs a warning at each login)",
             "Set 'wait_for_enter = no' only as a module argument of the services that need "
             "it (login, scripts), not in pam_aad.conf.");
    aad_check_report_set(r, "sshd",
                         json_pack("{s:s, s:I, s:I, s:b, s:b, s:s, s:I, s:s, s:o}", "config", config,
                                   "logingracetime", (json_int_t)s.login_grace_time,
                                   "login_bound_s", (json_int_t)aad_config_login_bound_s(cfg),
                                   "usepam", s.use_pam == 1, "kbdinteractiveauthentication",
                                   s.kbd_interactive == 1, "authenticationmethods",
                                   s.authentication_methods, "maxauthtries",
                                   (json_int_t)s.max_auth_tries, "maxstartups", s.max_startups,
                                   "certificates", certificates));
}

enum aad_status aad_check_run(const struct aad_config *cfg, const struct aad_error *load_err,
                              double load_ms, const struct aad_check_options *opt)
{
    struct aad_check_report r;
    if (aad_check_report_init(&r, opt->json, opt->color) != 0) {
        fprintf(stderr, "aad-login: out of memory\n");
        return AAD_UNAVAILABLE;
    }
    if (cfg == NULL) {
        report_exchange(&r, NULL, "configuration", load_ms, load_err);
        return aad_check_report_finish(&r);
    }
    ok(&r, "configuration", load_ms, cfg->path);
    aad_check_report_set(&r, "config", json_string(cfg->path));
    check_authority(&r, cfg);
    check_mapping(&r, cfg);
    aad_check_groups(&r, cfg, opt->group_file);
    check_helper(&r, cfg, opt->helper);
    check_sshd(&r, cfg, opt);
    aad_check_sync(&r, cfg, opt->sync_state_dir, opt->nsswitch);
    aad_check_session(&r, cfg, opt->pam_dir);
    json_t *unseen = json_array();
    for (size_t i = 0; i < sizeof(not_checked) / sizeof(not_checked[0]); i++) {
        aad_check_note(&r, "not checked", CHECK_INFO, not_checked[i], NULL);
        json_array_append_new(unseen, json_string(not_checked[i]));
    }
    if (cfg->group_map != NULL || cfg->allowed_groups.count > 0) {
        aad_check_note(&r, "not checked", CHECK_INFO, groups_claim_unchecked, NULL);
        json_array_append_new(unseen, json_string(groups_claim_unchecked));
    }
    aad_check_report_set(&r, "not_checked", unseen);
    return aad_check_report_finish(&r);
}
