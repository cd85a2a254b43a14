/* token_args.c - `aad-login token`'s command line and configuration file.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "token_args.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SUFFIX "/.default"
#define USER_CONFIG "/.config/pam_aad/token.conf"

void token_args_usage(FILE *f, const char *default_config)
{
    fprintf(f,
            "Usage: aad-login token [OPTIONS] [--json|--az-json] --scope SCOPE...\n"
            "       aad-login token [OPTIONS] --sign-in [--scope SCOPE...]\n"
            "       aad-login token [OPTIONS] --sign-out\n"
            "       aad-login token [OPTIONS] --app [--certificate FILE --key FILE]\n"
            "                       [--json|--az-json] --scope RESOURCE/.default\n"
            "Options: --config FILE, --tenant TENANT, --client-id ID, -o key=value, --debug\n"
            "Prints an access token for SCOPE on stdout. As the user: signed in once (the\n"
            "code is shown on stderr or /dev/tty), later runs refresh silently from the\n"
            "kernel keyring; without a terminal and without a sign-in it fails at once.\n"
            "As the application (--app): with its certificate.\n"
            "Configuration: --config FILE, else ~" USER_CONFIG ", else %s\n"
            "(without a readable file, --tenant and --client-id suffice).\n"
            "Exit: 0 success, 1 refused, 2 usage, 3 service unavailable, 4 configuration error,\n"
            "      7 a sign-in is needed: run 'aad-login token --sign-in' in a terminal.\n",
            default_config);
}

/* Adds the space-separated words of arg to the request; each must be
 * printable ASCII (it is shown on the terminal and sent in a form). */
static int add_scopes(struct token_request *req, const char *arg)
{
    for (const char *p = arg; *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n > TOKEN_MAX_SCOPE_WORD)
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (p[i] <= ' ' || p[i] > '~')
                return -1;
        }
        size_t used = strlen(req->scope);
        if (n > 0 && used + n + 2 > sizeof(req->scope))
            return -1;
        if (n > 0)
            snprintf(req->scope + used, sizeof(req->scope) - used, "%s%.*s", used ? " " : "",
                     (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* "key=" + an absolute form of path (the configuration's rule for
 * credential files: the file rules themselves stay those of the key). */
static int credential_override(char *out, size_t size, const char *key, const char *path)
{
    char cwd[PATH_MAX];
    int n;
    if (path[0] == '/')
        n = snprintf(out, size, "%s=%s", key, path);
    else if (getcwd(cwd, sizeof(cwd)) != NULL)
        n = snprintf(out, size, "%s=%s/%s", key, cwd, path);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The application's grant takes exactly one RESOURCE/.default. */
static int app_scope_ok(const char *scope)
{
    size_t n = strlen(scope), k = strlen(DEFAULT_SUFFIX);
    return strchr(scope, ' ') == NULL && n > k && strcmp(scope + n - k, DEFAULT_SUFFIX) == 0;
}

static const char *problem_of(const struct token_request *req, const char *cert_path,
                              const char *key_path)
{
    if (req->sign_in + req->sign_out + req->app > 1)
        return "--sign-in, --sign-out and --app exclude each other";
    if (req->sign_out && (req->scope[0] != '\0' || req->format != TOKEN_FORMAT_PLAIN))
        return "--sign-out takes no --scope and prints nothing";
    if (req->sign_in && req->format != TOKEN_FORMAT_PLAIN)
        return "--sign-in prints nothing";
    if (req->scope[0] == '\0' && !req->sign_in && !req->sign_out)
        return "--scope is required";
    if ((cert_path != NULL || key_path != NULL) && !req->app)
        return "--certificate and --key are for --app";
    if ((cert_path == NULL) != (key_path == NULL))
        return "give both --certificate and --key, or neither";
    if (req->app && !app_scope_ok(req->scope))
        return "--app takes exactly one scope, RESOURCE/.default";
    return NULL;
}

int token_args_parse(int argc, char **argv, const char *default_config, struct token_args *a,
                     FILE *err)
{
    static const struct option long_opts[] = {
        {"scope", required_argument, NULL, 's'},       {"app", no_argument, NULL, 'a'},
        {"certificate", required_argument, NULL, 'C'}, {"key", required_argument, NULL, 'K'},
        {"json", no_argument, NULL, 'j'},              {"az-json", no_argument, NULL, 'z'},
        {"sign-in", no_argument, NULL, 'I'},           {"sign-out", no_argument, NULL, 'O'},
        {"tenant", required_argument, NULL, 'T'},      {"client-id", required_argument, NULL, 'c'},
        {"config", required_argument, NULL, 'f'},      {"option", required_argument, NULL, 'o'},
        {"debug", no_argument, NULL, 'd'},             {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    const char *cert_path = NULL, *key_path = NULL;
    int opt;
    optind = 1;
    opterr = err != NULL;
    while ((opt = getopt_long(argc, argv, "s:f:o:dh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (add_scopes(&a->req, optarg) != 0) {
                if (err != NULL)
                    fprintf(err, "aad-login: --scope: printable words of at most %d characters, "
                                 "%d in all\n", TOKEN_MAX_SCOPE_WORD, TOKEN_MAX_SCOPE_TEXT - 1);
                return TOKEN_USAGE;
            }
            break;
        case 'a': a->req.app = 1; break;
        case 'j': a->req.format = TOKEN_FORMAT_JSON; break;
        case 'z': a->req.format = TOKEN_FORMAT_AZ; break;
        case 'I': a->req.sign_in = 1; break;
        case 'O': a->req.sign_out = 1; break;
        case 'C': cert_path = optarg; break;
        case 'K': key_path = optarg; break;
        case 'f': a->config_path = optarg; break;
        case 'T': snprintf(a->tenant_arg, sizeof(a->tenant_arg), "tenant=%.256s", optarg); break;
        case 'c': snprintf(a->client_arg, sizeof(a->client_arg), "client_id=%.40s", optarg); break;
        case 'o':
        case 'd':
            if (a->noverrides >= TOKEN_MAX_OVERRIDES) {
                if (err != NULL)
                    fprintf(err, "aad-login: too many -o or -d options (at most %d)\n",
                            TOKEN_MAX_OVERRIDES);
                return TOKEN_USAGE;
            }
            a->overrides[a->noverrides++] = opt == 'o' ? optarg : "debug";
            break;
        case 'h': a->help = 1; return TOKEN_OK;
        default:
            if (err != NULL)
                token_args_usage(err, default_config);
            return TOKEN_USAGE;
        }
    }
    const char *problem = optind != argc ? "unexpected argument" : problem_of(&a->req, cert_path, key_path);
    if (problem == NULL && cert_path != NULL &&
        (credential_override(a->cert_arg, sizeof(a->cert_arg), "client_certificate", cert_path) != 0 ||
         credential_override(a->key_arg, sizeof(a->key_arg), "client_key", key_path) != 0))
        problem = "--certificate or --key: path too long";
    if (problem != NULL) {
        if (err != NULL) {
            fprintf(err, "aad-login token: %s\n", problem);
            token_args_usage(err, default_config);
        }
        return TOKEN_USAGE;
    }
    if (a->cert_arg[0] != '\0') {
        a->overrides[a->noverrides++] = a->cert_arg;
        a->overrides[a->noverrides++] = a->key_arg;
    }
    if (a->tenant_arg[0] != '\0')
        a->overrides[a->noverrides++] = a->tenant_arg;
    if (a->client_arg[0] != '\0')
        a->overrides[a->noverrides++] = a->client_arg;
    a->has_app_ids = a->tenant_arg[0] != '\0' && a->client_arg[0] != '\0';
    return TOKEN_OK;
}

const char *token_home_dir(void)
{
    const struct passwd *pw = getpwuid(geteuid());
    return pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

int token_args_config(const struct token_args *a, const char *system_path, char *buf,
                      size_t size, const char **path, char *why, size_t why_size)
{
    struct stat st;
    const char *home = token_home_dir();
    *path = a->config_path;
    if (a->config_path != NULL)
        return 0;
    if (home != NULL && (size_t)snprintf(buf, size, "%s%s", home, USER_CONFIG) < size &&
        lstat(buf, &st) == 0) {
        *path = buf;
        return 0;
    }
    if (access(system_path, R_OK) == 0) {
        *path = system_path;
        return 0;
    }
    int unreadable = errno;
    if (a->has_app_ids) {
        *path = NULL;
        return 0;
    }
    snprintf(why, why_size,
             "%s %s. Give --tenant and --client-id (the application's), or write them in your "
             "own ~" USER_CONFIG " (see aad-login(1), TOKENS FOR SCRIPTS).",
             system_path, unreadable == ENOENT ? "does not exist" : "is readable by root only");
    return -1;
}
