#include "cmd/options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/plan.h"

enum {
    OPT_PORTS = 256,
    OPT_PROTOCOLS,
    OPT_RESOLVE,
    OPT_CA_FILE,
    OPT_TIMEOUT,
    OPT_DEADLINE,
    OPT_TRACE,
    OPT_FORMAT,
    OPT_JSON,
    OPT_CERT_WARN_DAYS,
    OPT_DNS_SERVER,
    OPT_VERSION,
    OPT_DISCOVER,
    OPT_USER,
    OPT_PASSWORD_FILE,
    OPT_TOKEN_FILE,
    OPT_AUTH_MECH,
    OPT_ALLOW_INSECURE,
    OPT_SECRET_ON_ARGV,
    OPT_INJECTION_TEST,
    OPT_TARGETS_FILE,
    OPT_CONCURRENCY,
    OPT_REQUIRE,
    OPT_FORBID,
    OPT_CERT_CRIT_DAYS,
    OPT_EXPLAIN,
    OPT_NO_CONFIRM,
    OPT_NO_AUTOCONFIG,
    OPT_AUTOCONFIG_DB,
    OPT_TLS_AUDIT,
    OPT_CLIENT,
};

static const struct option long_options[] = {
    {"ports", required_argument, NULL, OPT_PORTS},
    {"protocols", required_argument, NULL, OPT_PROTOCOLS},
    {"resolve", required_argument, NULL, OPT_RESOLVE},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"deadline", required_argument, NULL, OPT_DEADLINE},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"json", no_argument, NULL, OPT_JSON},
    {"cert-warn-days", required_argument, NULL, OPT_CERT_WARN_DAYS},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"discover", required_argument, NULL, OPT_DISCOVER},
    {"user", required_argument, NULL, OPT_USER},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"oauth2-token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"auth-mech", required_argument, NULL, OPT_AUTH_MECH},
    {"allow-insecure-auth", no_argument, NULL, OPT_ALLOW_INSECURE},
    {"injection-test", no_argument, NULL, OPT_INJECTION_TEST},
    {"targets-file", required_argument, NULL, OPT_TARGETS_FILE},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"quiet", no_argument, NULL, 'q'},
    {"require", required_argument, NULL, OPT_REQUIRE},
    {"forbid", required_argument, NULL, OPT_FORBID},
    {"warning", required_argument, NULL, 'w'},
    {"critical", required_argument, NULL, 'c'},
    {"cert-crit-days", required_argument, NULL, OPT_CERT_CRIT_DAYS},
    {"explain", required_argument, NULL, OPT_EXPLAIN},
    {"no-confirm", no_argument, NULL, OPT_NO_CONFIRM},
    {"no-autoconfig", no_argument, NULL, OPT_NO_AUTOCONFIG},
    {"autoconfig-db", required_argument, NULL, OPT_AUTOCONFIG_DB},
    {"tls-audit", no_argument, NULL, OPT_TLS_AUDIT},
    {"client", required_argument, NULL, OPT_CLIENT},
    /* Refused on purpose, with a reason: argv is visible to every user (ps, /proc). */
    {"password", optional_argument, NULL, OPT_SECRET_ON_ARGV},
    {"pass", optional_argument, NULL, OPT_SECRET_ON_ARGV},
    {"oauth2-token", optional_argument, NULL, OPT_SECRET_ON_ARGV},
    {"token", optional_argument, NULL, OPT_SECRET_ON_ARGV},
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void ms_options_usage(FILE *out)
{
    fputs(
        "Usage: mailscope [OPTIONS] TARGET...\n"
        "       mailscope serve [OPTIONS]   the web page, JSON API and Prometheus exporter\n"
        "                                   (mailscope serve --help)\n"
        "\n"
        "Check whether POP3, IMAP4 and SMTP submission work securely on a mail host:\n"
        "connect to every endpoint in parallel, negotiate TLS (implicit and\n"
        "STARTTLS/STLS), read the capabilities before and after TLS, and report what\n"
        "works, what is broken, why, and how to fix it.\n"
        "\n"
        "TARGET is a host name (its four standard endpoints: IMAP 143 with STARTTLS,\n"
        "IMAP 993, POP3 110 with STLS, POP3 995), a URL naming one endpoint:\n"
        "imap://HOST[:PORT] (STARTTLS), imaps://, pop3:// (STLS), pop3s://,\n"
        "submission:// (SMTP, STARTTLS, 587), submissions:// (SMTP, implicit TLS, 465),\n"
        "smtp:// (port 25, always a finding) (an IPv6 address in brackets:\n"
        "imaps://[::1]:993), or an e-mail address: its domain's receiving and sending\n"
        "servers are found from DNS (SRV, MX and the usual names imap., pop., smtp.,\n"
        "mail.) and the best settings are recommended. Sending is checked by signing in\n"
        "only: no mail is ever sent.\n"
        "\n"
        "Options:\n"
        "  --discover DOMAIN        find the servers of a mail domain (like an e-mail address)\n"
        "  --ports NAME=PORT,...    ports for a bare host (names: imap, imaps, pop3, pop3s,\n"
        "                           submission, submissions); https, http: where\n"
        "                           autoconfig/Autodiscover URLs without a port are fetched\n"
        "                           from (443, 80; for tests)\n"
        "  --protocols LIST         imap, pop3, submission or all (comma-separated); a bare\n"
        "                           host: imap,pop3; an e-mail address: all\n"
        "  --resolve HOST:ADDRESS   use ADDRESS for HOST without DNS; SNI and certificate\n"
        "                           checks still use HOST (repeatable)\n"
        "  --dns-server IP[:PORT]   ask this DNS server instead of the system's (repeatable)\n"
        "  -4, --ipv4 / -6, --ipv6  use only IPv4 / only IPv6 addresses\n"
        "  --ca-file FILE           also trust the CA certificates in FILE (PEM)\n"
        "  --user NAME              sign in as NAME (one endpoint per protocol) and report\n"
        "                           what the account can do; the password comes from\n"
        "                           MAILSCOPE_PASSWORD, --password-file, or a prompt\n"
        "  --password-file FILE     read the password from FILE's first line (a pipe or\n"
        "                           FIFO must deliver it within --deadline; a file others\n"
        "                           can read is used, with a warning)\n"
        "  --oauth2-token-file FILE sign in with this OAuth2 access token (XOAUTH2 or\n"
        "                           OAUTHBEARER); or set MAILSCOPE_OAUTH2_TOKEN\n"
        "  --auth-mech NAME         PLAIN, LOGIN, XOAUTH2, OAUTHBEARER or USER (POP3\n"
        "                           USER/PASS, IMAP LOGIN command)\n"
        "  --allow-insecure-auth    also send credentials without verified TLS\n"
        "  --no-confirm             do not check on a separate connection whether a server that\n"
        "                           advertises password sign-in before TLS really takes it\n"
        "                           (the check never sends the user's credentials)\n"
        "  --no-autoconfig          with an e-mail address or --discover, do not fetch what\n"
        "                           mail programs fetch (Thunderbird autoconfig, Microsoft\n"
        "                           Autodiscover); by default it is fetched and checked\n"
        "  --autoconfig-db DIR|URL  also ask an ISPDB-like database: DIR/DOMAIN[.xml] or\n"
        "                           URL/DOMAIN (e.g. https://autoconfig.thunderbird.net/v1.1)\n"
        "  --injection-test         on STARTTLS endpoints, also test (on a separate\n"
        "                           connection) whether the server executes commands\n"
        "                           injected before the TLS handshake\n"
        "  --tls-audit              on every TLS endpoint, also test (one extra handshake\n"
        "                           each, all in parallel) the TLS versions and weak cipher\n"
        "                           suites accepted, key-exchange groups, DH size, the chain\n"
        "                           sent, SNI, OCSP stapling and DANE (TLSA), and say which\n"
        "                           mail programs can connect\n"
        "  --client NAME            with --tls-audit: report on this mail program only\n"
        "                           (e.g. \"Outlook 2010\", thunderbird; see --client list)\n"
        "  --cert-warn-days N       warn when a certificate expires within N days (14)\n"
        "  --timeout SECONDS        bound on each phase of each endpoint (10)\n"
        "  --deadline SECONDS       bound on the whole run, whatever the servers do (30)\n"
        "  --format FORMAT          text (default), json, jsonl (one JSON report per target\n"
        "                           per line, as each finishes), nagios (Monitoring Plugins\n"
        "                           status line and perfdata), prometheus (text exposition);\n"
        "                           --json = --format json\n"
        "  --require LIST           CRITICAL unless every item holds (comma-separated,\n"
        "                           repeatable): imap, pop3, submission, imaps,\n"
        "                           imap+starttls, pop3s, pop3+stls, submissions,\n"
        "                           submission+starttls, login, imap:IDLE, pop3:UIDL,\n"
        "                           smtp:AUTH=PLAIN, smtp:SIZE>=BYTES, tls>=1.2,\n"
        "                           cert-days>=21, a summary feature (push_mail,\n"
        "                           can_send, ...)\n"
        "  --forbid LIST            CRITICAL if any item holds; items as --require, plus\n"
        "                           finding codes (e.g. auth.plaintext_login_allowed)\n"
        "  -w, --warning SECONDS    WARNING when an endpoint's check takes longer\n"
        "  -c, --critical SECONDS   CRITICAL when an endpoint's check takes longer\n"
        "  --cert-crit-days N       CRITICAL when a certificate expires within N days\n"
        "  --targets-file FILE      many targets, one per line (host, URL or e-mail address,\n"
        "                           optionally followed by user=NAME; # comments); a regular\n"
        "                           file, or - for stdin (a pipe, read as lines arrive).\n"
        "                           SIGINT/SIGTERM: no new targets, those in flight get 2 s\n"
        "                           (a second signal: none), then the summary and exit 3\n"
        "  --concurrency N          endpoints in flight at most with --targets-file (100;\n"
        "                           fewer when the open-files limit, ulimit -n, is low)\n"
        "  -q, --quiet              no progress line on the terminal\n"
        "  --trace                  print the protocol transcript to stderr\n"
        "  --explain CODE           what a finding code means, why it matters and what to do\n"
        "                           (all: every code; --format json: as JSON)\n"
        "  -h, --help               show this help\n"
        "      --version            show the version\n"
        "\n"
        "Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage, an unreadable\n"
        "input, an internal error, or a run cut short: a signal, output that cannot be\n"
        "written).\n"
        "Colour is used on a terminal unless NO_COLOR is set.\n"
        "\n"
        "Examples:\n"
        "  mailscope mail.example.com\n"
        "  mailscope --json mail.example.com\n"
        "  mailscope alice@example.com\n"
        "  mailscope imaps://mail.example.com pop3://mail.example.com:1110\n"
        "  mailscope --ports imap=10143,imaps=10993,pop3=10110,pop3s=10995 mail.test.example\n"
        "  mailscope --resolve mail.test.example:127.0.0.1 --ca-file ca.pem mail.test.example\n"
        "  mailscope --protocols pop3 --trace mail.example.com\n"
        "  mailscope --protocols all mail.example.com        # receiving and sending\n"
        "  mailscope submissions://smtp.example.com submission://smtp.example.com\n"
        "  MAILSCOPE_PASSWORD=... mailscope --user alice alice@example.com\n"
        "  mailscope --format nagios -w 2 -c 5 --require 'imaps,pop3s,tls>=1.2' mail.example.com\n"
        "  mailscope --forbid pop3 mail.example.com        # is POP3 really off?\n"
        "  mailscope --explain tls.cert_untrusted\n"
        "  mailscope --targets-file hosts.txt --format jsonl --concurrency 200 > results.jsonl\n"
        "  mailscope --format prometheus --targets-file hosts.txt -q > mailscope.prom\n",
        out);
}

int ms_options_seconds(const char *name, const char *text, double *out, struct ms_error *err)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (!*text || *end || !(v > 0) || v > 3600)
        return ms_error_set(err, MS_EINVAL,
                            "%s needs a number of seconds between 0 and 3600, got '%s'", name,
                            text);
    *out = v;
    return 0;
}

int ms_options_add_dns_server(char *list, size_t cap, const char *text, struct ms_error *err)
{
    size_t used = strlen(list), len = strlen(text);
    if (len == 0 || strchr(text, ','))
        return ms_error_set(err, MS_EINVAL, "--dns-server takes one IP[:PORT] each time");
    if (used + len + 2 > cap)
        return ms_error_set(err, MS_EINVAL, "too many --dns-server options");
    snprintf(list + used, cap - used, "%s%s", used ? "," : "", text);
    return 0;
}

int ms_options_parse(int argc, char **argv, struct ms_options *opt, struct ms_error *err)
{
    int rc = 0;
    struct ms_request *req = &opt->request;
    struct ms_ports ports = ms_plan_default_ports();
    unsigned want = 0; /* --protocols; 0: the target's default */
    const char *discover = NULL;
    memset(opt, 0, sizeof *opt);
    req->timeout_s = MS_DEFAULT_TIMEOUT_S;
    req->deadline_s = MS_DEFAULT_DEADLINE_S;
    opt->assess.cert_warn_days = MS_DEFAULT_CERT_WARN_DAYS;

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":46hqw:c:", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_PORTS: rc = ms_plan_parse_ports(optarg, &ports, err); break;
        case OPT_PROTOCOLS: rc = ms_plan_parse_protocols(optarg, &want, err); break;
        case OPT_RESOLVE:
            if (req->pin_count >= MS_MAX_PINS)
                return ms_error_set(err, MS_EINVAL, "too many --resolve options (at most %d)",
                                    MS_MAX_PINS);
            rc = ms_plan_parse_pin(optarg, &opt->pins[req->pin_count], err);
            req->pins = opt->pins;
            if (rc == 0)
                req->pin_count++;
            break;
        case OPT_CA_FILE: req->ca_file = optarg; break;
        case OPT_TIMEOUT: rc = ms_options_seconds("--timeout", optarg, &req->timeout_s, err); break;
        case OPT_DEADLINE:
            rc = ms_options_seconds("--deadline", optarg, &req->deadline_s, err);
            break;
        case OPT_TRACE: req->trace = true; break;
        case OPT_JSON: opt->format = MS_FORMAT_JSON; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                opt->format = MS_FORMAT_JSON;
            else if (strcmp(optarg, "text") == 0)
                opt->format = MS_FORMAT_TEXT;
            else if (strcmp(optarg, "jsonl") == 0)
                opt->format = MS_FORMAT_JSONL;
            else if (strcmp(optarg, "nagios") == 0)
                opt->format = MS_FORMAT_NAGIOS;
            else if (strcmp(optarg, "prometheus") == 0)
                opt->format = MS_FORMAT_PROMETHEUS;
            else
                rc = ms_error_set(
                    err, MS_EINVAL,
                    "--format: unknown format '%s' (use text, json, jsonl, nagios or prometheus)",
                    optarg);
            break;
        case OPT_CERT_WARN_DAYS: {
            char *end = NULL;
            long days = strtol(optarg, &end, 10);
            if (!*optarg || *end || days < 0 || days > 3650)
                rc = ms_error_set(err, MS_EINVAL,
                                  "--cert-warn-days needs a whole number of days (0-3650)");
            else
                opt->assess.cert_warn_days = (int)days;
            break;
        }
        case OPT_DNS_SERVER:
            rc = ms_options_add_dns_server(req->dns_servers, sizeof req->dns_servers, optarg, err);
            break;
        case OPT_DISCOVER: discover = optarg; break;
        case OPT_USER:
            if (!*optarg || strlen(optarg) > MS_MAX_HOST || strpbrk(optarg, "\r\n"))
                return ms_error_set(err, MS_EINVAL,
                                    "--user needs a user name (at most %d characters)",
                                    MS_MAX_HOST);
            opt->secrets.user = optarg;
            break;
        case OPT_PASSWORD_FILE: opt->secrets.password_file = optarg; break;
        case OPT_TOKEN_FILE: opt->secrets.token_file = optarg; break;
        case OPT_AUTH_MECH: {
            static const char *const known[] = {"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER", "USER"};
            bool ok = false;
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                if (strcasecmp(optarg, known[k]) == 0) {
                    snprintf(req->auth_mech, sizeof req->auth_mech, "%s", known[k]);
                    ok = true;
                }
            if (!ok)
                return ms_error_set(err, MS_EINVAL,
                                    "--auth-mech: unknown mechanism '%s' (PLAIN, LOGIN, XOAUTH2, "
                                    "OAUTHBEARER, USER)",
                                    optarg);
            break;
        }
        case OPT_ALLOW_INSECURE: req->allow_insecure_auth = true; break;
        case OPT_INJECTION_TEST: req->injection_test = true; break;
        case OPT_TLS_AUDIT: req->tls_audit = true; break;
        case OPT_CLIENT: opt->client = optarg; break;
        case OPT_TARGETS_FILE: opt->targets_file = optarg; break;
        case 'q': opt->quiet = true; break;
        case OPT_REQUIRE: rc = ms_require_parse(optarg, false, &opt->requirements, err); break;
        case OPT_FORBID: rc = ms_require_parse(optarg, true, &opt->requirements, err); break;
        case 'w':
            rc = ms_options_seconds("--warning", optarg, &opt->thresholds.warning_s, err);
            break;
        case 'c':
            rc = ms_options_seconds("--critical", optarg, &opt->thresholds.critical_s, err);
            break;
        case OPT_CERT_CRIT_DAYS: {
            char *end = NULL;
            long days = strtol(optarg, &end, 10);
            if (!*optarg || *end || days < 0 || days > 3650)
                rc = ms_error_set(err, MS_EINVAL,
                                  "--cert-crit-days needs a whole number of days (0-3650)");
            else
                opt->thresholds.cert_crit_days = (int)days;
            break;
        }
        case OPT_CONCURRENCY: {
            char *end = NULL;
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || n < 1 || n > MS_MAX_CONCURRENCY)
                return ms_error_set(err, MS_EINVAL,
                                    "--concurrency needs a whole number from 1 to %d",
                                    MS_MAX_CONCURRENCY);
            opt->concurrency = (size_t)n;
            break;
        }
        case OPT_SECRET_ON_ARGV:
            return ms_error_set(
                err, MS_EINVAL,
                "secrets are never taken on the command line (other users can read it); "
                "use MAILSCOPE_PASSWORD / --password-file or MAILSCOPE_OAUTH2_TOKEN / "
                "--oauth2-token-file");
        case '4': req->family = MS_FAMILY_IPV4; break;
        case '6': req->family = MS_FAMILY_IPV6; break;
        case 'h': opt->show_help = true; return 0;
        case OPT_VERSION: opt->show_version = true; return 0;
        case OPT_EXPLAIN: opt->explain = optarg; break;
        case OPT_NO_CONFIRM: req->no_plaintext_check = true; break;
        case OPT_NO_AUTOCONFIG: req->no_autoconfig = true; break;
        case OPT_AUTOCONFIG_DB:
            if (!*optarg || strlen(optarg) > 400)
                return ms_error_set(err, MS_EINVAL,
                                    "--autoconfig-db needs a directory or an http(s) URL");
            req->autoconfig_db = optarg;
            break;
        case ':':
            return ms_error_set(err, MS_EINVAL, "option '%s' needs a value", argv[optind - 1]);
        default: return ms_error_set(err, MS_EINVAL, "unknown option '%s'", argv[optind - 1]);
        }
        if (rc < 0)
            return rc;
    }
    opt->thresholds.cert_warn_days = opt->assess.cert_warn_days;
    opt->ports = ports;
    opt->want = want;
    if (!opt->concurrency)
        opt->concurrency = MS_DEFAULT_CONCURRENCY;
    if (opt->explain)
        return 0; /* no target needed */
    if (opt->targets_file) {
        if (optind < argc || discover)
            return ms_error_set(
                err, MS_EINVAL,
                "give targets either on the command line or in --targets-file, not both");
        return 0;
    }
    if (optind >= argc && !discover)
        return ms_error_set(
            err, MS_EINVAL,
            "no target given (a host name, an e-mail address or a URL such as imaps://host)");

    size_t used = 0;
    if (discover) {
        struct ms_target target;
        rc = ms_plan_parse_domain(discover, &target, err);
        if (rc == 0)
            rc = ms_plan_add(req, &target, &ports, want, err);
        if (rc < 0)
            return rc;
        used = (size_t)snprintf(req->target, sizeof req->target, "%s", target.host);
        if (used >= sizeof req->target)
            used = sizeof req->target - 1;
    }
    for (int i = optind; i < argc; i++) {
        struct ms_target target;
        rc = ms_plan_parse_target(argv[i], &target, err);
        if (rc == 0)
            rc = ms_plan_add(req, &target, &ports, want, err);
        if (rc < 0)
            return rc;
        used += (size_t)snprintf(req->target + used,
                                 used < sizeof req->target ? sizeof req->target - used : 0, "%s%s",
                                 used ? " " : "", argv[i]);
        if (used >= sizeof req->target)
            used = sizeof req->target - 1;
    }
    /* An e-mail target signs in as that address when a secret is at hand (providers use
     * the full address as the user name); --user says otherwise. */
    if (!opt->secrets.user && req->discover_user[0] &&
        (getenv("MAILSCOPE_PASSWORD") || getenv("MAILSCOPE_OAUTH2_TOKEN") ||
         opt->secrets.password_file || opt->secrets.token_file)) {
        snprintf(opt->email_user, sizeof opt->email_user, "%s@%s", req->discover_user,
                 req->discover_domain);
        opt->secrets.user = opt->email_user;
    }
    return 0;
}
