/* The finding catalogue (report/catalogue.h): every code's row, the shared context
 * templates and phrases, and the template expander. The judges (assess*.c) decide which
 * row and which template; the words are all here. report/FINDINGS.md's table is generated
 * from these rows (`mailscope --explain all --format json`, checked by docs.findings). */
#include "report/catalogue.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* clang-format off */
const struct ms_catalogue_entry ms_catalogue[MS_F_COUNT] = {
    [MS_F_DNS_NO_SUCH_HOST] =
        {
            .code = "dns.no_such_host",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "does not resolve (no such host)",
            .severity_doc = "critical (info†)",
            .when = "The host name does not exist in DNS (NXDOMAIN).",
            .why = "Mail programs cannot find a server whose name does not exist: nothing connects.",
            .remedy_doc = "Check the spelling; add an A/AAAA record for the host at the DNS provider.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the name {host} does not exist in DNS (NXDOMAIN){?evidence: ({evidence})}.",
                    [MS_T_DNS_RESOLVER_WORDS] = "{endpoint}: {evidence}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the spelling of {host}. If it is right, add an A and/or AAAA record for it at the domain's DNS provider.",
                },
        },
    [MS_F_DNS_NO_ADDRESS] =
        {
            .code = "dns.no_address",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "has no address in DNS",
            .severity_doc = "critical (info†)",
            .when = "The name exists but has no A/AAAA record (of the family allowed by `-4`/`-6`).",
            .why = "A name without an address record cannot be connected to.",
            .remedy_doc = "Add an A and/or AAAA record; try without `-4`/`-6`.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the name {host} exists in DNS but has no address (no A or AAAA record){?evidence: ({evidence})}.",
                    [MS_T_DNS_RESOLVER_WORDS] = "{endpoint}: {evidence}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Add an A (IPv4) and/or AAAA (IPv6) record for {host} at the DNS provider. If -4 or -6 was given, try without it.",
                },
        },
    [MS_F_DNS_TIMEOUT] =
        {
            .code = "dns.timeout",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "could not be resolved in time",
            .severity_doc = "critical (info†)",
            .when = "The resolver did not answer in time. Discovery: `endpoint` null, names the resolver, critical when every DNS question about the domain timed out (\"DNS did not answer\"; no server can be found), warning when only some did (servers named only there are missing).",
            .why = "Without a DNS answer nothing can be checked; the resolver, not the mail server, is usually at fault.",
            .remedy_doc = "Check this machine's resolver and network (or the `--dns-server` given, UDP and TCP port 53); `--resolve HOST:ADDRESS` bypasses DNS.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: DNS did not answer in time for {host}{?evidence: ({evidence})}.",
                    [MS_T_DNS_RESOLVER_WORDS] = "{endpoint}: {evidence}.",
                    [MS_T_DNS_DISCOVERY_ALL] = "DNS did not answer: all {asked} questions about {domain} timed out ({names}{?more:, ...}; resolver {resolver}), so mailscope could not find the mail servers.",
                    [MS_T_DNS_DISCOVERY_SOME] = "DNS did not answer {silent} of {asked} questions about {domain} ({names}{?more:, ...}; resolver {resolver}); servers named only there were not found.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check this machine's DNS resolver (/etc/resolv.conf) and network, then try again; --resolve {host}:ADDRESS bypasses DNS to test the server itself.",
                    [MS_T_DNS_DISCOVERY_ALL] = "Check this machine's resolver (/etc/resolv.conf) or the --dns-server given, and that UDP and TCP port 53 reach it; a server name instead of an e-mail address, with --resolve HOST:ADDRESS, bypasses discovery.",
                    [MS_T_DNS_DISCOVERY_SOME] = "Check this machine's resolver (/etc/resolv.conf) or the --dns-server given, and that UDP and TCP port 53 reach it; a server name instead of an e-mail address, with --resolve HOST:ADDRESS, bypasses discovery.",
                },
        },
    [MS_F_DNS_ERROR] =
        {
            .code = "dns.error",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "could not be resolved",
            .severity_doc = "critical (info†)",
            .when = "Any other resolver failure (SERVFAIL, refused, ...). Discovery: `endpoint` null, naming the resolver and its words, critical when no question about the domain was answered (the resolver refuses, fails, or a truncated UDP answer could not be fetched over TCP), warning when only some failed; most questions timing out instead makes it `dns.timeout`.",
            .why = "The domain's DNS is broken (often DNSSEC or unreachable name servers): mail programs cannot find the server.",
            .remedy_doc = "Check the domain's name servers (SERVFAIL often means broken DNSSEC).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: resolving {host} failed{?evidence: ({evidence})}.",
                    [MS_T_DNS_RESOLVER_WORDS] = "{endpoint}: {evidence}.",
                    [MS_T_DNS_DISCOVERY_ALL] = "DNS failed: all {asked} questions about {domain} failed ({names}{?more:, ...}: {message}; resolver {resolver}), so mailscope could not find the mail servers. That says nothing about {domain} itself.",
                    [MS_T_DNS_DISCOVERY_SOME] = "DNS failed {silent} of {asked} questions about {domain} ({names}{?more:, ...}: {message}; resolver {resolver}); servers named only there were not found.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the DNS servers of the domain: a SERVFAIL often means broken DNSSEC or unreachable name servers. Ask the DNS provider, or test the server with --resolve {host}:ADDRESS.",
                    [MS_T_DNS_DISCOVERY_ALL] = "Check the resolver {resolver}: it refuses or fails these questions (a resolver that does not serve this network, a firewall that blocks DNS over TCP after a truncated answer, a broken DNSSEC chain). Try another resolver with --dns-server IP, or name the server with --resolve HOST:ADDRESS.",
                    [MS_T_DNS_DISCOVERY_SOME] = "Check the resolver {resolver} and the domain's name servers for these names; --dns-server IP asks another resolver.",
                },
        },
    [MS_F_DNS_SRV_NOT_OFFERED] =
        {
            .code = "dns.srv_not_offered",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .severity_doc = "info",
            .when = "Discovery: an SRV record of the domain has the target `.` (RFC 6186/2782: the service is *not offered*), e.g. \"example.com says POP3 (_pop3._tcp) is not offered (SRV target '.')\". `endpoint` is null; one finding per protocol. When no SRV record of that protocol names a real server, the protocol is *not offered*: its verdict says so (`offered: false`) and is not critical, no `proto.unavailable` is raised, and its guessed endpoints that are closed are info. The message says so when the protocol works anyway on a guessed host.",
            .why = "Mail programs that follow SRV records take '.' to mean the service is off and will not use it.",
            .remedy_doc = "Nothing to do if the protocol is meant to be off. Otherwise replace the `.` record with one naming the server (e.g. `_pop3s._tcp.example.com. SRV 0 1 995 pop.example.com.`).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{domain} says {proto} ({labels}) is not offered (SRV target '.').",
                    [MS_T_SRV_WORKS_ANYWAY] = "{domain} says {proto} ({labels}) is not offered (SRV target '.'), yet {proto} works on {host}:{port} (found by {found_by}); mail programs that follow SRV records will not use it.",
                    [MS_T_SRV_OTHER_RECORDS] = "{domain} says {proto} ({labels}) is not offered (SRV target '.'); other SRV records name {proto} servers, so mail programs use those.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Nothing to do if {proto} is meant to be off{?other:: mail programs should use {other}}. If it should work, replace the '.' record with one that names the server, e.g. {service}.{domain}. SRV 0 1 {port} {prefix}.{domain}.",
                    [MS_T_SRV_WORKS_ANYWAY] = "If {proto} is meant to be offered, replace the '.' record with one that names the server, e.g. {service}.{domain}. SRV 0 1 {port} {host}.; if it is meant to be off, turn it off on the server too.",
                    [MS_T_SRV_OTHER_RECORDS] = "Nothing to do if that way of reaching {proto} is meant to be off (RFC 8314 recommends implicit TLS on port {port}). If it should work, replace the '.' record with one that names the server.",
                },
        },
    [MS_F_DNS_SRV_TARGET_UNRESOLVABLE] =
        {
            .code = "dns.srv_target_unresolvable",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "Discovery: an SRV record names a host that has no address (NXDOMAIN, no A/AAAA, or the lookup failed; the message says which). `endpoint` is null; one finding per record.",
            .why = "Mail programs that follow the SRV record try a host they cannot reach.",
            .remedy_doc = "Add an A/AAAA record for the target, or correct the SRV record to name the server's real host name.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{service} names {host}{?port: (port {port})}, but {how}; mail programs that follow the SRV record cannot connect there.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Add an A and/or AAAA record for {host}, or correct the SRV record {service} to name the mail server's real host name (an existing name, not an alias).",
                },
        },
    [MS_F_TCP_REFUSED] =
        {
            .code = "tcp.refused",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "refused the connection",
            .severity_doc = "critical (info†)",
            .when = "Every address refused the connection (RST): nothing listens on the port.",
            .why = "Nothing listens on the port (or a firewall rejects it): mail programs get \"connection refused\".",
            .remedy_doc = "Check that the server runs and listens on the port and that the firewall allows it.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: {address} refused the connection{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check that the mail server runs and listens on port {port}, and that port {port} is open in the firewall.",
                },
        },
    [MS_F_TCP_TIMEOUT] =
        {
            .code = "tcp.timeout",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "did not answer (connection timed out)",
            .severity_doc = "critical (info†)",
            .when = "No address answered the connection attempt in time (usually a dropping firewall).",
            .why = "A firewall usually drops the port silently: mail programs hang, then fail.",
            .remedy_doc = "Open the port in the server's and the network's firewall; check the host is up and the name points to it.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: no answer when connecting to port {port} of {host}{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "A firewall probably drops port {port}: open it in the server's and the network's firewall, and check that the server is up and {host} points to it.",
                },
        },
    [MS_F_TCP_UNREACHABLE] =
        {
            .code = "tcp.unreachable",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "is unreachable",
            .severity_doc = "critical (info†)",
            .when = "Network or host unreachable, no route.",
            .why = "The network path to the server is broken from here.",
            .remedy_doc = "Check this machine's network and route to the host (VPN, IPv6: try `-4`).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the network or host is unreachable{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check this machine's network connection and its route to {host} (VPN, IPv6 connectivity: try -4).",
                },
        },
    [MS_F_TCP_RESET] =
        {
            .code = "tcp.reset",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "reset the connection",
            .severity_doc = "critical",
            .when = "The server accepted the TCP connection, then reset it (RST) before or during the greeting, the capabilities or the TLS handshake. Connection limits (per address or in total), TCP wrappers, fail2ban, an IPS, or a load balancer without a healthy backend do this. Distinct from `tcp.refused` (RST to the connection attempt: nothing listens) and `tcp.unreachable` (no route).",
            .why = "The server is up and reachable but turns this client away: mail programs report a broken connection, often only sometimes or only from some networks.",
            .remedy_doc = "Read the server's log at the time of the check: per-address or total connection limits (the setting of the server identified, e.g. Dovecot: `mail_max_userip_connections`, `process_limit`), TCP wrappers (`hosts.deny`), fail2ban or an IPS blocking the address, the load balancer's backend health.",
            .topic = MS_TOPIC_CONNECTION_LIMITS,
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the server accepted the connection, then reset it {phase}{?evidence: ({evidence})}. Connection limits, TCP wrappers, fail2ban or an intrusion-prevention system, or a load balancer without a healthy backend do this.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the server's log at the time of this check for why it dropped this client: per-address or total connection limits ({server_setting}), TCP wrappers (hosts.deny), fail2ban or a firewall/IPS that blocks this address, and, behind a load balancer, whether its backends are healthy.",
                },
        },
    [MS_F_TCP_DENIED] =
        {
            .code = "tcp.denied",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "was not checked (its address is not allowed here)",
            .severity_doc = "critical",
            .when = "`mailscope serve`: the service's connect policy refused every address of the endpoint: a loopback, private, link-local, ... address (checked on the address actually connected to, after DNS), or a port that is not one of the module's mail ports. Nothing was sent there; the message names the address and its kind.",
            .why = "A service that connects where strangers say must not reach the machine it runs on or the networks behind it.",
            .remedy_doc = "Check the host name and its DNS records; check internal servers with the command line, or start the service with `--allow-private`.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: not checked: this service does not connect there{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "This mailscope service checks public mail servers on mail ports only. Check the host name {host} and its DNS records; for a server on an internal network run mailscope on the command line, or start the service with --allow-private.",
                },
        },
    [MS_F_TCP_IPV6_UNREACHABLE] =
        {
            .code = "tcp.ipv6_unreachable",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "The host has IPv4 and IPv6 addresses; a TCP connect to the first IPv4 address works but the one to the first IPv6 address does not. The message gives both addresses and the error (\"mail programs that try IPv6 first may hang\").",
            .why = "Mail programs on dual-stack networks try IPv6 first: they hang or fail when it is broken.",
            .remedy_doc = "Fix the AAAA record (or remove it), make the server listen on IPv6, open the IPv6 firewall and route for the port. An \"unreachable\" error can also mean this machine has no IPv6 route.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: IPv4 ({good_address}) connects{?good_ms: in {good_ms} ms} but IPv6 ({bad_address}) does not: {bad_message}{?bad_code: ({bad_code})}. Mail programs that try IPv6 first may hang.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Fix IPv6 for {host}: check that its AAAA record ({bad_address_raw}) points to the mail server, that the server listens on port {port} over IPv6, and that firewalls and routes let IPv6 through to that port; or remove the AAAA record.{?no_route: \"Unreachable\" can also mean this machine has no IPv6 route: check from another network.}",
                },
        },
    [MS_F_TCP_IPV4_UNREACHABLE] =
        {
            .code = "tcp.ipv4_unreachable",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "The other way round: IPv6 connects, IPv4 does not (clients on IPv4-only networks cannot connect at all).",
            .why = "Mail programs on IPv4-only networks cannot connect at all.",
            .remedy_doc = "Fix the A record, make the server listen on IPv4, open the IPv4 firewall and route for the port.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: IPv6 ({good_address}) connects{?good_ms: in {good_ms} ms} but IPv4 ({bad_address}) does not: {bad_message}{?bad_code: ({bad_code})}. Mail programs that try IPv4 first may hang, and those on networks without IPv6 cannot connect at all.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Fix IPv4 for {host}: check that its A record ({bad_address_raw}) points to the mail server, that the server listens on port {port} over IPv4, and that firewalls and routes let IPv4 through to that port.{?no_route: \"Unreachable\" can also mean this machine has no IPv4 route: check from another network.}",
                },
        },
    [MS_F_TCP_POOL_MEMBER_DOWN] =
        {
            .code = "tcp.pool_member_down",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "warning",
            .when = "The host has several addresses (a pool: each user reaches one of them) and some fail (connect, TLS, greeting or capabilities) while others work. Every address of a host is probed by default (at most 16; the JSON endpoint's `pool` says which were probed and whether there were more). An address whose address family already failed its own check (`tcp.ipv6_unreachable`, `tcp.ipv4_unreachable`) is not counted again.",
            .why = "Mail works for some users and not for others, or \"sometimes\": the classic intermittent helpdesk ticket.",
            .remedy_doc = "Repair or remove the failing member: take it out of DNS (or the load balancer) until it works.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{failed} of {total} addresses of {host} fail on port {port}: {members} - users who reach {?plural:them}{!plural:it} cannot read mail.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Repair the failing member{?plural:s} ({addresses}) or remove {?plural:them}{!plural:it} from DNS and the load balancer until {?plural:they work}{!plural:it works}.",
                },
        },
    [MS_F_TLS_HANDSHAKE_FAILED] =
        {
            .code = "tls.handshake_failed",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "failed the TLS handshake",
            .severity_doc = "critical",
            .when = "The TLS handshake failed (alert, garbage, plaintext on an implicit-TLS port, close).",
            .why = "Without a TLS session no mail program can connect securely.",
            .remedy_doc = "Configure a certificate and key and enable TLS 1.2/1.3; on 993/995 the server must speak TLS from the first byte.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the TLS handshake failed{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the server's TLS setup on port {port}: a certificate and key must be configured and TLS 1.2 or 1.3 enabled. On port {port} the server must speak TLS from the first byte (implicit TLS), not plaintext.",
                    [MS_T_HANDSHAKE_STARTTLS] = "Check the server's TLS setup: a certificate and key must be configured and TLS 1.2 or 1.3 enabled. The server agreed to {cmd} but could not complete the handshake.",
                },
        },
    [MS_F_TLS_TIMEOUT] =
        {
            .code = "tls.timeout",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "timed out in the TLS handshake",
            .severity_doc = "critical",
            .when = "The TLS handshake did not finish in time.",
            .why = "Mail programs give up on a handshake that does not finish.",
            .remedy_doc = "Check server load and any firewall/proxy blocking TLS; try a larger `--timeout`.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the TLS handshake did not finish in time{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the server's load and logs; a firewall or proxy may block TLS on port {port}. If the server is just slow, try a larger --timeout.",
                },
        },
    [MS_F_TLS_CLIENT_CERT_REQUIRED] =
        {
            .code = "tls.client_cert_required",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "requires a client certificate",
            .severity_doc = "critical",
            .when = "The server asked for a client certificate (CertificateRequest) and, without one, ended TLS: the alert `certificate_required` (TLS 1.3, after the handshake, on the first read) or `handshake_failure` / `bad_certificate` (TLS 1.2). The message quotes the alert.",
            .why = "Mail programs without a client certificate (nearly all) cannot connect at all.",
            .remedy_doc = "If ordinary mail programs should connect, make client certificates optional on the server; if they are required on purpose, install one in each mail program (mailscope cannot present one).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} requires a client certificate: it asked for one and, as none was sent, ended TLS with the alert \"{alert}\"{?evidence: ({evidence})}. Mail programs without a client certificate cannot connect.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "If ordinary mail programs should connect, make client certificates optional for port {port} (e.g. Dovecot: ssl_verify_client_cert = no, or at least auth_ssl_require_client_cert = no; a TLS proxy in front of the server may require them too). If they are required on purpose, install a client certificate in each mail program; mailscope cannot present one.",
                },
        },
    [MS_F_TLS_CERT_EXPIRED] =
        {
            .code = "tls.cert_expired",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "has an expired certificate",
            .severity_doc = "critical",
            .when = "The server's certificate (or one in its chain) has expired: OpenSSL `X509_V_ERR_CERT_HAS_EXPIRED`, or `not_after` is past.",
            .why = "Mail programs refuse an expired certificate (or show a warning users learn to click away).",
            .remedy_doc = "Renew the certificate (or install the CA's current intermediates) and reload the mail server.",
            .messages =
                {
                    [MS_T_DEFAULT] = "The certificate of {endpoint} expired on {not_after} ({ago} day{?plural:s} ago); mail programs will refuse to connect.",
                    [MS_T_EXPIRED_NO_CERT] = "The certificate of {endpoint} has expired ({verify_error}); mail programs will refuse to connect.",
                    [MS_T_EXPIRED_CHAIN] = "A certificate in the chain sent by {endpoint} has expired ({verify_error}); the server's own certificate is valid until {not_after}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Renew the certificate for {host} (expired {expiry_date}); until then mail programs will refuse to connect. Then reload the mail server so it uses the new one.",
                    [MS_T_EXPIRED_NO_CERT] = "Renew the certificate for {host}; until then mail programs will refuse to connect. Then reload the mail server so it uses the new one.",
                    [MS_T_EXPIRED_CHAIN] = "Install the CA's current intermediate certificate(s) in the server's chain file (e.g. fullchain.pem) and reload the mail server.",
                },
        },
    [MS_F_TLS_CERT_NOT_YET_VALID] =
        {
            .code = "tls.cert_not_yet_valid",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "has a certificate that is not valid yet",
            .severity_doc = "critical",
            .when = "The certificate's `not_before` is in the future (`X509_V_ERR_CERT_NOT_YET_VALID`).",
            .why = "Mail programs refuse a certificate before its start date; often one of the clocks is wrong.",
            .remedy_doc = "Check both clocks; install a certificate that is valid now.",
            .messages =
                {
                    [MS_T_DEFAULT] = "The certificate of {endpoint} is not valid yet: it starts on {not_before}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the clocks of this machine and of the server. If both are right, install a certificate for {host} that is valid now.",
                },
        },
    [MS_F_TLS_CERT_HOSTNAME_MISMATCH] =
        {
            .code = "tls.cert_hostname_mismatch",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "has a certificate for another name",
            .severity_doc = "critical",
            .when = "The certificate does not cover the host name asked for (`X509_V_ERR_HOSTNAME_MISMATCH` / `IP_ADDRESS_MISMATCH`, or `hostname_match` false). The message lists the names it covers, and names the SRV record when the host came from one.",
            .why = "Mail programs refuse a certificate for another name: it could be anyone's server.",
            .remedy_doc = "Install a certificate whose SANs include the host name, or configure clients with a name it covers.",
            .messages =
                {
                    [MS_T_DEFAULT] = "The certificate of {endpoint} does not cover the name {host}: it is for {names}.{?srv: The SRV record {srv} names this host, so mail programs that follow it will refuse the connection.}",
                    [MS_T_MISMATCH_NO_CERT] = "The certificate of {endpoint} does not cover the name {host}.{?srv: The SRV record {srv} names this host, so mail programs that follow it will refuse the connection.}",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Install a certificate whose subject alternative names include {host}, or configure mail programs with a name the certificate covers{?san: ({san})}.{?srv: Or change the SRV record {srv} to name a host the certificate covers.}",
                },
        },
    [MS_F_TLS_CERT_UNTRUSTED] =
        {
            .code = "tls.cert_untrusted",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "has an untrusted certificate",
            .severity_doc = "critical",
            .when = "The chain does not verify for another reason: self-signed (`DEPTH_ZERO_SELF_SIGNED_CERT`, `SELF_SIGNED_CERT_IN_CHAIN`), unknown CA or missing intermediates (`UNABLE_TO_GET_ISSUER_CERT[_LOCALLY]`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), revoked, weak key, ...; or no certificate, or not verified without a reason.",
            .why = "Mail programs cannot tell the real server from an impostor: they refuse or warn, and users learn to accept warnings.",
            .remedy_doc = "Use a certificate from a public CA and send the full chain (e.g. `fullchain.pem`); with a private CA install it on every client and pass `--ca-file`.",
            .messages =
                {
                    [MS_T_DEFAULT] = "The certificate of {endpoint} could not be verified: {verify_error} (subject {subject}, issuer {issuer}).",
                    [MS_T_UNTRUSTED_NO_CERT] = "{endpoint} sent no certificate, so mail programs cannot tell it is the real server.",
                    [MS_T_UNTRUSTED_SELF_SIGNED] = "The certificate of {endpoint} is not trusted: {words} (subject {subject}, issuer {issuer}); mail programs will refuse it or warn.",
                    [MS_T_UNTRUSTED_WORDS] = "The certificate of {endpoint} is not trusted: {words} (subject {subject}, issuer {issuer}).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Install a valid certificate for {host} from a trusted CA, with its full chain, and reload the mail server.",
                    [MS_T_UNTRUSTED_FIX_SELF_SIGNED] = "Replace the certificate for {host} with one from a public CA (e.g. Let's Encrypt). With a private CA, install the CA on every client and pass --ca-file to mailscope.",
                    [MS_T_UNTRUSTED_FIX_CHAIN] = "Configure the server to send the full chain: its certificate plus the CA's intermediate certificates (e.g. fullchain.pem, not cert.pem), then reload it. With a private CA, install the CA on every client and pass --ca-file to mailscope.",
                },
        },
    [MS_F_TLS_CERT_EXPIRES_SOON] =
        {
            .code = "tls.cert_expires_soon",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning (critical under `--cert-crit-days`)",
            .when = "The certificate is valid but `days_left` < `--cert-warn-days` (default 14; 0 turns it off); critical when `days_left` < `--cert-crit-days N`.",
            .why = "When it expires, every mail program stops connecting at once.",
            .remedy_doc = "Renew before the date; check that automatic renewal works and the server reloads the certificate.",
            .messages =
                {
                    [MS_T_DEFAULT] = "The certificate of {endpoint} expires on {not_after}, in {days} day{?plural:s}.",
                    [MS_T_EXPIRES_TODAY] = "The certificate of {endpoint} expires today ({not_after}).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Renew the certificate for {host} before {expiry_date}, check that automatic renewal (e.g. certbot) works, and that the mail server reloads the renewed certificate.",
                },
        },
    [MS_F_TLS_PROTOCOL_OUTDATED] =
        {
            .code = "tls.protocol_outdated",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = "uses an outdated TLS version",
            .severity_doc = "warning (critical for SSLv3/SSLv2)",
            .when = "TLS 1.0 or 1.1 was negotiated; with `--tls-audit`, also when SSLv3, TLS 1.0 or 1.1 is accepted beside a newer version (the message names them).",
            .why = "Current mail programs refuse TLS 1.0 and 1.1; SSL is broken outright.",
            .remedy_doc = "Enable TLS 1.2 and 1.3 and make them the minimum, with the setting of the server identified (e.g. Dovecot: `ssl_min_protocol = TLSv1.2`; Cyrus: `tls_versions: tls1_2 tls1_3`).",
            .topic = MS_TOPIC_TLS_MIN_VERSION,
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} negotiated {version}, an outdated protocol version that current mail programs refuse; TLS 1.2 or 1.3 is expected.",
                    [MS_T_OUTDATED_ACCEPTED] = "{endpoint} still accepts {versions} (it negotiated {version} with a current client); old versions let an attacker downgrade old clients.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Enable TLS 1.2 and 1.3 on the server and make them the minimum ({server_setting}); update the server's OpenSSL if it lacks them.",
                },
        },
    [MS_F_TLS_NOT_USED] =
        {
            .code = "tls.not_used",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "does not use TLS",
            .severity_doc = "critical",
            .when = "A plaintext-only endpoint (security `none`) ran without TLS.",
            .why = "Passwords and mail cross the network readable by anyone on the path.",
            .remedy_doc = "Configure mail programs for implicit TLS or STARTTLS, never plaintext.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} was used without TLS: passwords and mail would cross the network unencrypted.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Configure mail programs for port {implicit_port} (implicit TLS) or for {cmd}, never for plaintext.",
                },
        },
    [MS_F_TLS_WEAK_CIPHER] =
        {
            .code = "tls.weak_cipher",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "warning (critical for NULL, anonymous or EXPORT suites)",
            .when = "`--tls-audit`: a handshake that offered only one class of weak cipher suites (NULL, anonymous, EXPORT, DES/3DES, RC4, static-RSA key exchange; one handshake per class) completed, or TLS 1.0 was accepted with a CBC suite. The message names the classes and the suites the server chose. Classes this OpenSSL build cannot offer are reported as untestable in the JSON, never as refused.",
            .why = "An attacker on the path can read or alter the mail of a client that ends up with such a suite; NULL and anonymous suites give no protection at all.",
            .remedy_doc = "Restrict the server's cipher list to forward-secret AEAD suites (Dovecot: `ssl_cipher_list`, e.g. Mozilla's \"intermediate\" list).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} accepts weak cipher suites: {classes}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Restrict the server's cipher list to forward-secret AEAD suites (Dovecot: ssl_cipher_list, e.g. Mozilla's \"intermediate\" configuration) and disable TLS 1.0/1.1.",
                },
        },
    [MS_F_TLS_DH_WEAK] =
        {
            .code = "tls.dh_weak",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "warning",
            .when = "`--tls-audit`: a handshake offering only finite-field DHE suites got a server key of fewer than 2048 bits.",
            .why = "DH groups under 2048 bits are within reach of well-funded attackers (Logjam), and current clients refuse them.",
            .remedy_doc = "Use 2048-bit or larger DH parameters (Dovecot: `ssl_dh`), or offer ECDHE only.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} uses {bits}-bit Diffie-Hellman parameters ({cipher}); 2048 bits is the minimum.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Generate 2048-bit (or larger) DH parameters (openssl dhparam 2048; Dovecot: ssl_dh = </etc/dovecot/dh.pem) or disable the DHE suites in favour of ECDHE.",
                },
        },
    [MS_F_TLS_CHAIN_INCOMPLETE] =
        {
            .code = "tls.chain_incomplete",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "warning",
            .when = "`--tls-audit`: the chain the server sends ends at a certificate whose issuer it does not send and which is not a trust anchor, while a complete path exists through an intermediate this machine knows, or the certificate names its issuer's download address (AIA caIssuers). An unknown root without either stays `tls.cert_untrusted`: the two cannot be told apart then.",
            .why = "Mail programs that do not fetch missing intermediates (Thunderbird, most phones) refuse the certificate, while browsers and this machine may work: the ticket says \"works for some users\".",
            .remedy_doc = "Configure the server with the full chain (the leaf followed by its intermediates: `fullchain.pem` from certbot).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} does not send the intermediate certificate \"{issuer}\" that issued its certificate; this machine completed the chain from its own store, mail programs without it will refuse the connection.",
                    [MS_T_CHAIN_AIA] = "{endpoint} does not send the intermediate certificate \"{issuer}\" that issued its certificate (it is only named for download at {url}); mail programs that do not download it will refuse the connection.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Send the full chain: configure the certificate file with the leaf followed by \"{issuer}\" (certbot's fullchain.pem, not cert.pem; Dovecot: ssl_cert = </etc/letsencrypt/live/{host}/fullchain.pem).",
                },
        },
    [MS_F_TLS_CHAIN_WRONG_ORDER] =
        {
            .code = "tls.chain_wrong_order",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "info",
            .when = "`--tls-audit`: a certificate the server sends is not followed by its issuer, or it sends certificates that belong to no path from its own.",
            .why = "Strict or old TLS libraries refuse a chain out of order; the others only work around it.",
            .remedy_doc = "Order the certificate file: the server's certificate first, then each issuer in turn.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} sends its certificate chain out of order or with certificates that do not belong to it ({count} sent).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Put the server's certificate first in the certificate file, then its issuer, then that one's issuer; remove certificates that belong to no path.",
                },
        },
    [MS_F_TLS_CHAIN_SHA1] =
        {
            .code = "tls.chain_sha1",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "warning",
            .when = "`--tls-audit`: a certificate the server sends (other than a self-signed root) is signed with SHA-1 or MD5.",
            .why = "Current TLS libraries reject SHA-1 signatures at their default security level: those clients cannot connect.",
            .remedy_doc = "Replace the certificate (or intermediate) with one signed with SHA-256 or better.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} sends a certificate signed with SHA-1 or MD5: \"{subject}\" ({algorithm}).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Replace \"{subject}\" with a certificate signed with SHA-256 or better; ask the CA for its current intermediate.",
                },
        },
    [MS_F_TLS_SNI_REQUIRED] =
        {
            .code = "tls.sni_required",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "info (warning when the certificate sent without SNI does not match the host)",
            .when = "`--tls-audit`: a handshake without SNI (the server name a client sends) got another certificate than the one with SNI.",
            .why = "Old mail programs (Outlook 2007 on Windows XP, old phones) send no SNI; they get the default certificate and fail when it does not match the host.",
            .remedy_doc = "Make the default certificate (the one served without SNI) cover the mail host name, or keep old clients on a dedicated address.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} presents another certificate to clients that send no server name (SNI): \"{subject}\"; it still covers {host}.",
                    [MS_T_SNI_NO_MATCH] = "{endpoint} presents another certificate to clients that send no server name (SNI): \"{subject}\", which does not cover {host}; mail programs without SNI get a certificate error.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Make the server's default certificate (served without SNI) the one for {host}, or add {host} to it.",
                },
        },
    [MS_F_TLS_OCSP_NOT_STAPLED] =
        {
            .code = "tls.ocsp_not_stapled",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "info",
            .when = "`--tls-audit`: the handshake asked for a stapled OCSP response and got none (and the certificate does not demand one).",
            .why = "Without stapling each client asks the CA itself (slower, leaks who reads mail where) or skips the revocation check.",
            .remedy_doc = "Enable OCSP stapling where the server software supports it (Dovecot does not; a TLS proxy in front of it can).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} does not staple an OCSP response.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Enable OCSP stapling if the server (or the TLS proxy in front of it) supports it; nothing is broken without it.",
                },
        },
    [MS_F_TLS_MUST_STAPLE_VIOLATED] =
        {
            .code = "tls.must_staple_violated",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "does not staple the OCSP response its certificate demands",
            .severity_doc = "critical",
            .when = "`--tls-audit`: the certificate carries the TLS Feature \"status_request\" (OCSP Must-Staple, RFC 7633) and the server sent no stapled OCSP response.",
            .why = "Clients that honour Must-Staple refuse the connection.",
            .remedy_doc = "Enable OCSP stapling, or use a certificate without Must-Staple.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} has a certificate that demands OCSP stapling (Must-Staple) but sends no OCSP response; clients that honour it refuse the connection.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Enable OCSP stapling on the server (or the TLS proxy in front of it), or reissue the certificate without the Must-Staple extension.",
                },
        },
    [MS_F_TLS_DANE_MISMATCH] =
        {
            .code = "tls.dane_mismatch",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "has TLSA records that do not match its certificate",
            .severity_doc = "critical (warning when the resolver did not validate the records)",
            .when = "`--tls-audit`: DNS has TLSA records for `_PORT._tcp.HOST` and none of the usable ones matches the chain the server sends (usages 0-3, selectors 0-1, matching types 0-2). Critical when the resolver validated the answer (DNSSEC, the AD bit), a warning when it did not.",
            .why = "DANE-aware clients (and mail servers) refuse a server whose certificate does not match its validated TLSA records.",
            .remedy_doc = "Publish TLSA records for the current certificate (or key) before switching certificates, and remove stale ones.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: none of the {count} DNSSEC-validated TLSA record{?plural:s} at {name} matches the certificate the server sends; DANE clients refuse the connection.",
                    [MS_T_DANE_UNVALIDATED] = "{endpoint}: none of the {count} TLSA record{?plural:s} at {name} matches the certificate the server sends (the resolver did not validate them).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Publish a TLSA record for the current certificate or its key at {name} (e.g. \"3 1 1 <SHA-256 of the public key>\") and remove the stale one; roll certificates with both records published.",
                },
        },
    [MS_F_TLS_DANE_UNVALIDATED] =
        {
            .code = "tls.dane_unvalidated",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "info",
            .when = "`--tls-audit`: TLSA records were found but the resolver did not say it validated them (no AD bit): the zone is not DNSSEC-signed, or the resolver does not validate.",
            .why = "DANE needs DNSSEC: unvalidated TLSA records protect nobody.",
            .remedy_doc = "Sign the zone with DNSSEC, and ask a validating resolver.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the resolver did not DNSSEC-validate the TLSA records at {name}: the zone is not signed (DANE clients then ignore the records: they protect nobody), or this resolver does not validate (ask one that does with --dns-server).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Sign the zone with DNSSEC (and check with a validating resolver), or remove the TLSA records.",
                },
        },
    [MS_F_TLS_DANE_LOOKUP_FAILED] =
        {
            .code = "tls.dane_lookup_failed",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "warning",
            .when = "`--tls-audit`: the resolver answered SERVFAIL to the TLSA question for `_PORT._tcp.HOST` (`dane.status` `servfail`). A validating resolver answers so when DNSSEC validation of the answer fails (bogus: a broken or expired signature, a DS record that matches no key); a broken authoritative server can cause it too.",
            .why = "A client that uses DANE cannot tell whether the server has TLSA records, so it does not connect (RFC 7672 2.2: a mail server defers delivery); validating resolvers give such clients no answer at all.",
            .remedy_doc = "Check the zone's DNSSEC with a validating tool (delv, drill -S): re-sign it, fix expired signatures or a DS record that matches no key, or remove the TLSA records.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint}: the TLSA lookup for {name} failed: the resolver answered SERVFAIL (DNSSEC validation may have failed); a client that uses DANE does not connect.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the DNSSEC of {name} with a validating tool (e.g. delv or drill -S): re-sign the zone, fix expired signatures or a DS record that matches no key, or remove the TLSA records.",
                },
        },
    [MS_F_TLS_POOL_INCONSISTENT] =
        {
            .code = "tls.pool_inconsistent",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .reason = NULL,
            .severity_doc = "warning",
            .when = "The addresses of a host (a pool) differ: another certificate, TLS version or capability list on some members.",
            .why = "Users get different behaviour depending on the member they reach: one member's expired certificate makes mail \"work sometimes\".",
            .remedy_doc = "Deploy the same certificate and configuration on every member of the pool.",
            .messages =
                {
                    [MS_T_DEFAULT] = "The addresses of {host} on port {port} differ: {differences}.",
                    [MS_T_POOL_EXPIRED] = "The addresses of {host} on port {port} differ: {differences}; users who reach {bad} get a certificate error.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Deploy the same certificate and TLS configuration on every member of the pool ({addresses}).",
                },
        },
    [MS_F_STARTTLS_NOT_OFFERED] =
        {
            .code = "starttls.not_offered",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "does not offer STARTTLS",
            .severity_doc = "critical",
            .when = "A STARTTLS endpoint (143/110) does not list `STARTTLS` / `STLS` in its capabilities. The message quotes them. Not softened when a sibling works.",
            .why = "Without STARTTLS the port can only be used unencrypted.",
            .remedy_doc = "Enable TLS for that port, with the setting of the server identified (e.g. Dovecot 2.3: `ssl = required` with `ssl_cert`/`ssl_key`; 2.4: `ssl_server_cert_file`/`ssl_server_key_file`), or close it and use 993/995.",
            .topic = MS_TOPIC_TLS_ENABLE,
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} does not offer {cmd}, so passwords and mail would cross the network unencrypted{?evidence: ({evidence})}.",
                    [MS_T_NOT_OFFERED_CAPS] = "{endpoint} does not offer {cmd}, so passwords and mail would cross the network unencrypted; its capabilities before TLS are: {caps}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Enable TLS for port {port} on the server ({server_setting}), or close port {port} and configure mail programs for port {implicit_port} with implicit TLS.",
                },
        },
    [MS_F_STARTTLS_REFUSED] =
        {
            .code = "starttls.refused",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "refused STARTTLS",
            .severity_doc = "critical",
            .when = "The server answered `STARTTLS` / `STLS` with NO, BAD or -ERR. The message quotes the answer.",
            .why = "The server advertises encryption but cannot start it: mail programs fail or, worse, fall back to plaintext.",
            .remedy_doc = "Fix the server's TLS configuration (certificate/key missing or unreadable); use 993/995 meanwhile.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} refused {cmd}: the server answered \"{answer}\".",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "The server advertises {cmd} but cannot start TLS: usually its certificate or key is missing or unreadable. Check the server's TLS configuration and logs; meanwhile use port {implicit_port} (implicit TLS).",
                },
        },
    [MS_F_STARTTLS_COMMAND_INJECTION] =
        {
            .code = "starttls.command_injection",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "executes commands injected before STARTTLS",
            .severity_doc = "critical",
            .when = "`--injection-test`: on a separate connection, `STARTTLS` and a harmless second command (IMAP `NOOP`, POP3 `CAPA`) were sent in one TCP segment, and the server answered the second command inside the TLS session that followed (the USENIX Security 2021 STARTTLS study; CVE-2011-0411 class). The message quotes the answer. A safe server, or one without a verdict, gets no finding; the JSON endpoint `injection` object says what was seen. The endpoint is never recommended, and the verdict names it as broken.",
            .why = "An attacker on the network path can run commands inside the user's encrypted session.",
            .remedy_doc = "Update the mail server or the proxy/load balancer in front of it so it discards everything received before the TLS handshake; meanwhile use 993/995 and close the STARTTLS port.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} executes commands injected before {cmd}: a {probe_command} sent in the same packet as {cmd} was answered inside the TLS session (\"{evidence}\"). An attacker on the network path can run commands in the user's encrypted session (STARTTLS command injection, CVE-2011-0411 class).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Update the mail server, or the proxy or load balancer in front of it: after {cmd} it must discard everything received before the TLS handshake. Until then configure mail programs for port {implicit_port} (implicit TLS) and close port {port}.",
                },
        },
    [MS_F_STARTTLS_INJECTED_DATA] =
        {
            .code = "starttls.injected_data",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "injected data after STARTTLS",
            .severity_doc = "critical",
            .when = "Bytes followed the STARTTLS OK before the handshake: a STARTTLS injection attack or a broken middlebox. The session was aborted.",
            .why = "Data before the handshake is what a STARTTLS injection attack looks like.",
            .remedy_doc = "Find and disable the firewall/proxy/antivirus mail inspection; update the server; use 993/995 meanwhile.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} sent data right after agreeing to {cmd}, before the TLS handshake: a STARTTLS injection attack or a broken middlebox. mailscope stopped, as a mail program should{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Look for a firewall, proxy or antivirus that inspects mail traffic on port {port} and turn its mail inspection off; update the mail server. Until then use port {implicit_port} (implicit TLS).",
                },
        },
    [MS_F_PROTO_BYE] =
        {
            .code = "proto.bye",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "said BYE",
            .severity_doc = "critical",
            .when = "IMAP `* BYE` instead of a greeting or an answer. The message quotes the server.",
            .why = "The server ends the session before it can be used.",
            .remedy_doc = "Read the server's words (connection limits, shutdown, service disabled); check the server logs.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} said BYE instead of serving the session {phase}{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Read the server's words: common causes are too many connections from one address, a server shutting down, or the service being disabled. Check the server logs.",
                },
        },
    [MS_F_PROTO_SERVICE_REFUSED] =
        {
            .code = "proto.service_refused",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "refused to serve this client",
            .severity_doc = "critical",
            .when = "SMTP `554` (no service for this client) or `421` (busy, shutting down) as the greeting or in answer to a command (RFC 5321 3.1, 3.8); a 4xx, `550` or `554` to EHLO and then HELO. The message quotes the server.",
            .why = "The server will not serve this client: mail programs here cannot send through it.",
            .remedy_doc = "Read the server's words: a 554 usually means this client's address is blocked (a blocklist, a firewall rule, a country filter); a 421 a busy server or a connection limit. Check the server logs.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} refused to serve this client {phase}{?evidence: ({evidence})}.",
                    [MS_T_REFUSED_TEMPORARY] = "{endpoint} is not serving clients right now (busy, over a connection limit, or shutting down) {phase}{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Read the server's words: a 554 usually means the client's address is blocked (a blocklist, a firewall or country filter) or the service is turned off. Try from another network to tell; check the server logs for this client's address.",
                    [MS_T_REFUSED_TEMPORARY] = "Try again in a few minutes; if it persists, check the server's connection limits (per client address and in total) and its logs.",
                },
        },
    [MS_F_PROTO_PREAUTH_WITHOUT_TLS] =
        {
            .code = "proto.preauth_without_tls",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "sent PREAUTH before TLS",
            .severity_doc = "critical",
            .when = "IMAP `* PREAUTH` on a plaintext connection: signed in without password and before TLS, so STARTTLS cannot protect the session.",
            .why = "A session signed in before TLS cannot be protected by STARTTLS any more.",
            .remedy_doc = "Turn off pre-authentication for untrusted networks; use 993.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} greeted with PREAUTH on a plaintext connection: it signed the client in without a password and before TLS, so STARTTLS cannot protect the session{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Turn off pre-authentication for connections from untrusted networks (it belongs to trusted local setups only), or use port {implicit_port} (implicit TLS).",
                },
        },
    [MS_F_PROTO_UNEXPECTED_GREETING] =
        {
            .code = "proto.unexpected_greeting",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "sent an unexpected greeting",
            .severity_doc = "critical",
            .when = "The greeting is not one of this protocol (POP3 -ERR, HTTP, SMTP, ...). The message quotes it.",
            .why = "Another service answers on the mail port: mail programs cannot talk to it.",
            .remedy_doc = "Check that the port runs the right server (`--ports`), and any proxy in front of it.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} did not greet like {a_proto} server{?greeting:: it sent \"{greeting}\"}{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check that port {port} runs {a_proto} server and not another service; check the port numbers (--ports) and any proxy in front of the server.",
                },
        },
    [MS_F_PROTO_MALFORMED_RESPONSE] =
        {
            .code = "proto.malformed_response",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "sent a malformed response",
            .severity_doc = "critical",
            .when = "Bytes that break the protocol, or that exceed a hard limit.",
            .why = "Mail programs cannot read what the server sends.",
            .remedy_doc = "Check the server software and any proxy rewriting mail traffic; `--trace` shows the exchange.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} sent a response that breaks the {proto} protocol {phase}{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the server software and its version, and any proxy or firewall that rewrites mail traffic; mailscope --trace shows the exact exchange.",
                },
        },
    [MS_F_PROTO_CLOSED] =
        {
            .code = "proto.closed",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "closed the connection",
            .severity_doc = "critical (info at logout, warning after sign-in‡)",
            .when = "The server closed the connection mid-session. Info when it happened only while logging out after the session worked.",
            .why = "Mail programs get cut off mid-session.",
            .remedy_doc = "Check the server logs (per-address connection limits, TLS or configuration errors, crashes).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} closed the connection {phase}{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the server logs for why it drops the connection (limits on connections per address, TLS or configuration errors, crashes).",
                },
        },
    [MS_F_PROTO_TIMEOUT] =
        {
            .code = "proto.timeout",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "stopped answering",
            .severity_doc = "critical (info at logout, warning after sign-in‡)",
            .when = "The server stopped answering within the phase timeout.",
            .why = "Mail programs hang, then fail.",
            .remedy_doc = "Check server load and logs, firewalls cutting connections; try a larger `--timeout`.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} stopped answering {phase}{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the server's load and logs; a firewall may cut the connection. If the server is just slow, try a larger --timeout.",
                },
        },
    [MS_F_PROTO_UNAVAILABLE] =
        {
            .code = "proto.unavailable",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .severity_doc = "critical",
            .when = "A requested protocol has no endpoint that completed securely and no endpoint finding explains it (e.g. no endpoint was probed; with discovery: \"POP3 is not available for example.com: no server was found (none of the 3 candidates resolves)\"). Not raised for a protocol the domain declares not offered. `endpoint` is null.",
            .why = "No mail program can use the protocol securely.",
            .remedy_doc = "Offer the protocol on 993/995 with implicit TLS (or STARTTLS on 143/110) and a valid certificate.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{proto} is not available securely{?domain: for {domain}}: no {proto} endpoint completed a TLS session with a verified certificate.",
                    [MS_T_UNAVAILABLE_NO_SERVER] = "{proto} is not available for {domain}: {why}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Offer {proto} on port {implicit} with implicit TLS (or STARTTLS on port {plain}) and a valid certificate; run mailscope --trace to see what the server does.",
                    [MS_T_UNAVAILABLE_FIX_DNS] = "Fix DNS first (see {dns_code}), then run mailscope again.",
                    [MS_T_UNAVAILABLE_PUBLISH_SRV] = "Publish SRV records for the mail domain (e.g. {service}.{domain}. SRV 0 1 {implicit} mail.{domain}.) and an A/AAAA record for the server, or ask the provider for the server's name and run mailscope on it.",
                },
        },
    [MS_F_PROTO_ALERT_IGNORED] =
        {
            .code = "proto.alert_ignored",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .severity_doc = "info",
            .when = "IMAP `[ALERT]`s arrived before TLS and were not shown (anyone on the path could inject them).",
            .why = "Alerts before TLS could have been injected by anyone on the path, so mailscope does not show them.",
            .remedy_doc = "Nothing for users; admins should send alerts after TLS.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} sent {count} [ALERT] message{?plural:s} before TLS; mailscope ignored {!plural:it}{?plural:them}, because anyone on the network path could have injected {!plural:it}{?plural:them}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Nothing to do for users. Admins who want users to see an alert should send it after TLS is up.",
                },
        },
    [MS_F_PROTO_CAPABILITY_MALFORMED] =
        {
            .code = "proto.capability_malformed",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .severity_doc = "info",
            .when = "A capability the server lists is malformed: a POP3 `EXPIRE` or `LOGIN-DELAY` glued to its value (`EXPIRENEVER`, `EXPIRE30`, `LOGIN-DELAY900`) or whose value is not a number of days/seconds (or `NEVER` for `EXPIRE`), `SASL` glued to a mechanism (`SASLPLAIN`), an IMAP `AUTH=` without a mechanism. mailscope reads it only where its meaning is certain (a name glued to a number or to `NEVER`) and the message says how it was read; otherwise it is ignored (the summary answers as if it were not there).",
            .why = "Mail programs that follow the RFCs do not recognise a malformed capability: they ignore it (a POP3 client then does not know how long mail stays on the server or how often it may poll) or misread it.",
            .remedy_doc = "Fix the capability in the server's configuration or software: RFC 2449 `EXPIRE 30`, `EXPIRE NEVER`, `LOGIN-DELAY 900`, `SASL PLAIN LOGIN`; RFC 3501 `AUTH=PLAIN`.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} lists a malformed capability ({where}): \"{token}\"; mailscope {?read_as:read it as \"{read_as}\" ({how})}{!read_as:ignored it ({how})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Nothing to do for users. Admins: correct it in the server's configuration or software to the standard form, {expected}; mail programs that follow the RFCs do not recognise \"{token}\".",
                    [MS_T_MALFORMED_IGNORED] = "Nothing to do for users. Admins: correct it in the server's configuration or software to the standard form, {expected}; mail programs that follow the RFCs ignore \"{token}\" too.",
                },
        },
    [MS_F_AUTH_PLAINTEXT_LOGIN_ALLOWED] =
        {
            .code = "auth.plaintext_login_allowed",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "The server takes a password before TLS. Advertised: IMAP capabilities before STARTTLS lack `LOGINDISABLED` (or offer `AUTH=PLAIN`/`AUTH=LOGIN`); POP3 capabilities before STLS list `USER` or `SASL` with `PLAIN`/`LOGIN`. Confirmed on a separate plaintext connection, never with the user's credentials: `AUTHENTICATE`/`AUTH PLAIN` (or `LOGIN`) cancelled with `*` at the server's `+`, else IMAP `LOGIN` / POP3 `USER` with a random user that cannot exist; the server taking the step (or judging the throwaway credentials) confirms it. A server that refuses because TLS is required gets no warning (see `auth.plaintext_refusal_unannounced`); without an answer the warning says \"advertised, not confirmed\" and why. `--no-confirm` skips the check.",
            .why = "A misconfigured mail program would send the password unencrypted, readable on the network path.",
            .remedy_doc = "Refuse cleartext sign-in, with the setting of the server identified (e.g. Dovecot 2.3: `disable_plaintext_auth = yes`; 2.4: `auth_allow_cleartext = no`; Courier: `IMAP_TLS_REQUIRED=1`; Cyrus: `allowplaintext: no`; Exchange: `Set-ImapSettings -LoginType SecureLogin`).",
            .topic = MS_TOPIC_PLAINTEXT_LOGIN,
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} lets mail programs send a password before TLS: its capabilities before TLS lack LOGINDISABLED, so the LOGIN command is allowed{?offers:, and they offer{offers}}. A misconfigured mail program would send the password unencrypted.{?confirmed: mailscope confirmed it on a separate connection: the server answered {sent} with \"{answer}\".}{?unconfirmed: Advertised, not confirmed: {why}.}",
                    [MS_T_PLAINTEXT_POP3] = "{endpoint} lets mail programs send a password before TLS: before STLS it offers {user}{?both: and }{sasl}. A misconfigured mail program would send the password unencrypted.{?confirmed: mailscope confirmed it on a separate connection: the server answered {sent} with \"{answer}\".}{?unconfirmed: Advertised, not confirmed: {why}.}",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Refuse password sign-in before TLS on the server ({server_setting}), and configure mail programs for {cmd} or port {implicit_port} (implicit TLS).",
                },
        },
    [MS_F_AUTH_PLAINTEXT_REFUSAL_UNANNOUNCED] =
        {
            .code = "auth.plaintext_refusal_unannounced",
            .severity = MS_SEVERITY_INFO,
            .flags = 0,
            .severity_doc = "info",
            .when = "The server refuses a password before TLS (checked on a separate connection, see `auth.plaintext_login_allowed`), but its capabilities before TLS do not say so: IMAP lacks `LOGINDISABLED` or offers `AUTH=PLAIN`/`AUTH=LOGIN`; POP3 lists `USER` or `SASL PLAIN`/`LOGIN` before STLS. The message quotes the refusal.",
            .why = "Safe, but a mail program that trusts the list may try once and send the password unencrypted before being refused.",
            .remedy_doc = "Announce the refusal: IMAP `LOGINDISABLED` and no `AUTH=` before STARTTLS; POP3 no `USER`/`SASL` before STLS. On Dovecot, Courier and Cyrus the setting that refuses passwords before TLS also announces it (the setting of the server identified, e.g. Dovecot 2.3: `disable_plaintext_auth = yes`).",
            .topic = MS_TOPIC_PLAINTEXT_LOGIN,
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} refuses passwords before TLS (a separate connection sent {sent} and the server answered \"{answer}\"), but its capabilities before TLS {?imap:lack LOGINDISABLED{?offers: and offer{offers}}}{!imap:offer {user}{?both: and }{sasl}}: a mail program that trusts the list may send its password once, unencrypted, before being refused.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Announce the refusal before TLS: {?imap:list LOGINDISABLED and no AUTH= mechanisms before STARTTLS}{!imap:list neither USER nor SASL PLAIN/LOGIN before STLS} ({server_setting}; on Dovecot, Courier and Cyrus that setting also announces the refusal).",
                    [MS_T_REFUSAL_FIX_SMTP] = "Announce the refusal before TLS: offer AUTH only after STARTTLS (Postfix: smtpd_tls_auth_only = yes; Exim: advertise AUTH to TLS connections only, with auth_advertise_hosts).",
                },
        },
    [MS_F_SUBMISSION_AUTH_BEFORE_TLS] =
        {
            .code = "submission.auth_before_tls",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "An SMTP submission server offers password sign-in (`AUTH PLAIN` or `LOGIN`, also the old `AUTH=` form) in its EHLO answer before STARTTLS. Confirmed as for `auth.plaintext_login_allowed`: a separate plaintext connection sends `AUTH PLAIN` (or `LOGIN`) and cancels with `*` at the server's `334`, never with the user's credentials; a refusal that names TLS or encryption (`538 5.7.11`, `530 5.7.0 Must issue a STARTTLS command first`) gets `auth.plaintext_refusal_unannounced` instead.",
            .why = "A misconfigured mail program would send the password unencrypted, readable on the network path (RFC 4954 4: the server should offer password mechanisms only over TLS).",
            .remedy_doc = "Offer AUTH only after STARTTLS (Postfix: `smtpd_tls_auth_only = yes`), and set mail programs up for 465 (implicit TLS) or STARTTLS on 587.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} offers password sign-in ({offers}) before STARTTLS: a misconfigured mail program would send the password unencrypted.{?confirmed: mailscope confirmed it on a separate connection: the server answered {sent} with \"{answer}\".}{?unconfirmed: Advertised, not confirmed: {why}.}",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Offer AUTH only after STARTTLS (Postfix: smtpd_tls_auth_only = yes; Exim: advertise AUTH to TLS connections only, with auth_advertise_hosts), and set mail programs up for port {implicit_port} (implicit TLS) or STARTTLS.",
                },
        },
    [MS_F_SUBMISSION_NO_AUTH] =
        {
            .code = "submission.no_auth",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .reason = "offers no sign-in (no AUTH) even over TLS",
            .severity_doc = "critical",
            .when = "An SMTP submission endpoint's EHLO answer over TLS lists no AUTH mechanism. The message quotes the extensions it does list.",
            .why = "Mail programs sign in to send (RFC 6409): without AUTH they cannot, and the server takes mail only from addresses it trusts, or only for its own domains (a relay on port 25).",
            .remedy_doc = "Turn on SASL authentication for the submission service (Postfix: `smtpd_sasl_auth_enable = yes` in master.cf's submission and submissions entries) or use the provider's submission server.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} offers no sign-in even over TLS: its EHLO answer lists no AUTH{?caps: ({caps})}. Mail programs cannot sign in to send mail here.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Turn on SMTP authentication for the submission service (Postfix: -o smtpd_sasl_auth_enable=yes on the submission and submissions lines of master.cf; Exim: an authenticator), or use the provider's submission server (ports 465 and 587).",
                },
        },
    [MS_F_SUBMISSION_PORT25] =
        {
            .code = "submission.port25",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "A sending endpoint on port 25 (`smtp://`, or any submission URL with port 25), or named by an `smtp://` URL with another port (the relay scheme the user configured).",
            .why = "Port 25 is for mail between servers (RFC 5321): many networks and providers block it for clients, servers there often take no sign-in, and mail programs set up for it fail on the next network.",
            .remedy_doc = "Set mail programs up for submission: 465 (implicit TLS, RFC 8314) or 587 (STARTTLS, RFC 6409).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{endpoint} is {?port25:port 25, the port for mail between servers}{!port25:given as an smtp:// URL, the scheme of port 25 and of mail between servers}: many networks block port 25 for mail programs, and servers there often take no sign-in.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Set mail programs up to send through port 465 (implicit TLS) or 587 (STARTTLS) of the provider's submission server instead of port 25.",
                },
        },
    [MS_F_AUTH_FAILED] =
        {
            .code = "auth.failed",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = MS_FF_ACCOUNT,
            .reason = "rejected the credentials",
            .outcome = "the server rejected the credentials",
            .severity_doc = "critical",
            .when = "The server rejected the credentials: `AUTHENTICATIONFAILED`, POP3 `[AUTH]`, or a refusal no rule below recognises (e.g. Exchange's \"AUTHENTICATE failed.\"). Also `AUTHORIZATIONFAILED`, `SYS/PERM` without words about the account, `WEBALERT`/\"web browser\", \"application-specific password\" (each with its own remedy). An OAuth2 token rejected: the message quotes the XOAUTH2/OAUTHBEARER error JSON.",
            .why = "The account cannot sign in with these credentials: mail stops until they are fixed.",
            .remedy_doc = "Check the user name and password (webmail); with MFA an app password may be needed; the provider may have turned password sign-in off (use OAuth2). For a token: get a fresh one with the mail scope.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Signing in as {user} on {endpoint} failed: the server rejected the credentials ({mechanism}): \"{words}\".{?oauth_error: The OAuth2 error was: {oauth_error}.}",
                    [MS_T_FAILED_AUTHZ] = "Signing in as {user} on {endpoint} failed: the credentials were accepted, but the server will not let them open this mailbox (\"{words}\").",
                    [MS_T_FAILED_PERM] = "Signing in as {user} on {endpoint} failed: the server reports a permanent problem with this account (\"{words}\").",
                    [MS_T_FAILED_TOKEN] = "Signing in as {user} on {endpoint} with an OAuth2 token ({mechanism}) failed: the server rejected the token (\"{words}\").{?oauth_error: The OAuth2 error was: {oauth_error}.}",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the user name and password (try them in webmail). If they are right, the account may need an app password (when multi-factor authentication is on), or the provider turned password sign-in off for mail programs{?offers_oauth2: (the server offers OAuth2: try --oauth2-token-file)}.",
                    [MS_T_FAILED_FIX_AUTHZ] = "Check the user name (some servers want the full e-mail address, others only the local part) and, for a shared or delegated mailbox, the rights of the signing-in account.",
                    [MS_T_FAILED_FIX_PERM] = "This is not necessarily a wrong password: ask the mail admin to check the account and the server's logs for {user}.",
                    [MS_T_FAILED_FIX_TOKEN] = "Get a fresh access token (they expire, often after an hour) with the mail scope (Google: https://mail.google.com/; Microsoft 365: https://outlook.office.com/{?imap:IMAP.AccessAsUser.All}{!imap:POP.AccessAsUser.All}), and check that the user name is the token's account.",
                    [MS_T_FAILED_FIX_WEB_LOGIN] = "The provider wants a sign-in in a web browser first (a security check): sign in to webmail from this network, then try again. If it persists, use an app password or OAuth2.",
                    [MS_T_FAILED_FIX_APP_PASSWORD] = "The account has multi-factor authentication on: create an app password in the account's security settings and use it instead of the normal password, or use OAuth2.",
                },
        },
    [MS_F_AUTH_PROTOCOL_DISABLED] =
        {
            .code = "auth.protocol_disabled",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = MS_FF_ACCOUNT,
            .reason = "refused this account the protocol",
            .outcome = "the account may not use this protocol",
            .severity_doc = "critical",
            .when = "The account may not use this protocol, decided from the server's words: Exchange/Microsoft 365 \"User is authenticated but not connected.\" (also after an accepted password), \"not enabled\" (Gmail: \"Your account is not enabled for IMAP use\"), \"not allowed to use\", \"access is disabled\" (Dovecot nologin reasons such as \"POP3 access is disabled for this account\", under `[AUTH]` or `[CONTACTADMIN]`), or \"disabled\"/\"denied\"/\"not allowed\"/\"not permitted\" next to a protocol name.",
            .why = "The password is right, but this account may not use the protocol: mail programs set up for it fail.",
            .remedy_doc = "Ask the admin to enable the protocol for the mailbox, with the setting of the server identified (e.g. Exchange: `Set-CASMailbox -Identity USER -ImapEnabled $true` / `-PopEnabled $true`; Gmail settings; Dovecot nologin/per-protocol passdb; Zimbra: `zmprov ma USER zimbraImapEnabled TRUE`), or use the other protocol.",
            .topic = MS_TOPIC_PROTOCOL_ACCESS,
            .messages =
                {
                    [MS_T_DEFAULT] = "The account {user} may not use {proto}: signing in on {endpoint} was refused with \"{words}\".",
                    [MS_T_DISABLED_EXCHANGE] = "The account {user} may not use {proto}: {endpoint} accepted the password, then refused every command with \"User is authenticated but not connected.\" (Exchange and Microsoft 365 say this when {proto} is disabled for the mailbox).",
                    [MS_T_DISABLED_SMTP_TENANT] = "Sending as {user} is turned off for the whole organisation: {endpoint} refused the sign-in with \"{words}\" (Microsoft 365 turns authenticated SMTP off for every mailbox of the tenant).",
                    [MS_T_DISABLED_SMTP_MAILBOX] = "Sending as {user} is turned off for this mailbox: {endpoint} refused the sign-in with \"{words}\" (Microsoft 365 turns authenticated SMTP off per mailbox).",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Ask the mail admin to enable {proto} for this mailbox ({server_setting}), or use {other_proto} if it works.",
                    [MS_T_DISABLED_SMTP_TENANT] = "Ask the Microsoft 365 admin to allow authenticated SMTP: for the tenant, Set-TransportConfig -SmtpClientAuthenticationDisabled $false, or for this mailbox only (it overrides the tenant), Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false. Security defaults and Conditional Access may block it too; mail programs that sign in with OAuth2 send without it.",
                    [MS_T_DISABLED_SMTP_MAILBOX] = "Ask the Microsoft 365 admin to allow authenticated SMTP for this mailbox: Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false (or in the admin center: Users, Mail, Manage email apps, Authenticated SMTP).",
                    [MS_T_DISABLED_FIX_SMTP] = "Ask the mail admin to allow authenticated SMTP (SMTP AUTH) for this account (Microsoft 365: Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false; Google Workspace: the admin console's SMTP relay and less secure app settings; Postfix/Dovecot: the user's passdb for the submission service).",
                },
        },
    [MS_F_AUTH_BASIC_AUTH_DISABLED] =
        {
            .code = "auth.basic_auth_disabled",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = MS_FF_ACCOUNT,
            .reason = "allows only OAuth2 sign-in",
            .outcome = "password sign-in is turned off (OAuth2 only)",
            .severity_doc = "critical",
            .when = "Password sign-in is off: the server offers only OAuth2 mechanisms (XOAUTH2/OAUTHBEARER), so the password was not sent; or the server's answer mentions basic authentication.",
            .why = "Mail programs that only know passwords cannot sign in at all.",
            .remedy_doc = "Use OAuth2 (`--oauth2-token-file`, a mail program that supports it), or ask the admin to allow basic authentication for IMAP/POP3.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Signing in as {user} on {endpoint} was refused: password sign-in (basic authentication) is turned off (\"{words}\").",
                    [MS_T_AUTH_NOT_SENT] = "{endpoint} offers only OAuth2 sign-in ({mechanisms}): password sign-in (basic authentication) is turned off, so mailscope did not send the password.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Use OAuth2 (modern authentication): a mail program that supports it, and mailscope --oauth2-token-file with a token for {user}; or ask the admin to allow basic authentication for {proto}.",
                },
        },
    [MS_F_AUTH_MECHANISM_UNAVAILABLE] =
        {
            .code = "auth.mechanism_unavailable",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = MS_FF_ACCOUNT,
            .reason = "offers no usable sign-in mechanism",
            .outcome = "no sign-in mechanism fits the secret given",
            .severity_doc = "critical",
            .when = "No mechanism fits the secret given: a token but no XOAUTH2/OAUTHBEARER, a password but no PLAIN/LOGIN/USER/LOGIN command, a forced `--auth-mech` the server refuses (\"Unsupported authentication mechanism\"), or `PRIVACYREQUIRED` / \"Plaintext authentication disallowed\" (the server takes no password without TLS; the password was not judged).",
            .why = "No way of signing in fits the credentials given: mail programs configured this way fail.",
            .remedy_doc = "Sign in with the kind of secret the server takes; choose an offered mechanism; sign in over TLS. The admin can offer PLAIN/LOGIN over TLS (the setting of the server identified, e.g. Dovecot: `auth_mechanisms = plain login`).",
            .topic = MS_TOPIC_PASSWORD_MECHANISMS,
            .messages =
                {
                    [MS_T_DEFAULT] = "Signing in as {user} on {endpoint} failed: the server does not take the mechanism {mechanism} (\"{words}\"); it offers {mechanisms}.",
                    [MS_T_AUTH_NOT_SENT] = "mailscope could not sign in as {user} on {endpoint}: {words} (offered: {mechanisms}).",
                    [MS_T_MECH_PRIVACY] = "Signing in as {user} on {endpoint} was refused: the server takes passwords only over TLS (\"{words}\"); the password was not judged.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Ask the admin to offer password sign-in over TLS with PLAIN or LOGIN ({server_setting}), or sign in with an OAuth2 token if the server takes one.",
                    [MS_T_MECH_FIX_OAUTH2] = "This server does not take OAuth2 tokens for {proto}: sign in with the password (MAILSCOPE_PASSWORD or --password-file) instead, or ask the provider which host takes OAuth2.",
                    [MS_T_MECH_FIX_FORCED] = "Choose a mechanism the server offers (--auth-mech), or leave the choice to mailscope.",
                    [MS_T_MECH_FIX_PRIVACY] = "Sign in over TLS: use port {implicit_port} (implicit TLS) or STARTTLS, never plaintext.",
                },
        },
    [MS_F_AUTH_ACCOUNT_LOCKED_OR_EXPIRED] =
        {
            .code = "auth.account_locked_or_expired",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = MS_FF_ACCOUNT,
            .reason = "says the account is locked or expired",
            .outcome = "the account is locked, disabled or expired",
            .severity_doc = "critical",
            .when = "`EXPIRED`, `CONTACTADMIN`, or words such as \"locked\", \"expired\", \"suspended\", \"deactivated\", \"account disabled\" (also under `SYS/PERM`).",
            .why = "The account itself is blocked: no mail program can sign in until an admin acts.",
            .remedy_doc = "Ask the admin/helpdesk to unlock the account or reset the password.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Signing in as {user} on {endpoint} was refused: the account is locked, disabled or its password has expired (\"{words}\").",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Ask the mail admin or helpdesk to unlock the account or reset the password; sign in to webmail to see whether it asks for a new password.",
                },
        },
    [MS_F_AUTH_LOGIN_DELAY] =
        {
            .code = "auth.login_delay",
            .severity = MS_SEVERITY_WARNING,
            .flags = MS_FF_ACCOUNT,
            .outcome = "too soon after the last sign-in (LOGIN-DELAY)",
            .severity_doc = "warning",
            .when = "POP3 `[LOGIN-DELAY]`: signed in again too soon.",
            .why = "Mail programs that check too often are refused now and then.",
            .remedy_doc = "Wait; set mail programs to check no more often than LOGIN-DELAY allows.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Signing in as {user} on {endpoint} was refused because the last sign-in was too recent (\"{words}\").",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Wait a few minutes and try again; set mail programs to check for mail no more often than the server's LOGIN-DELAY allows.",
                },
        },
    [MS_F_AUTH_MAILBOX_IN_USE] =
        {
            .code = "auth.mailbox_in_use",
            .severity = MS_SEVERITY_WARNING,
            .flags = MS_FF_ACCOUNT,
            .outcome = "the mailbox is in use by another session",
            .severity_doc = "warning",
            .when = "POP3 `[IN-USE]`, IMAP `INUSE`, \"maildrop locked\", \"mailbox in use\".",
            .why = "Another program holds the mailbox: this one cannot get in until it lets go.",
            .remedy_doc = "Close the other program that has the mailbox open, or wait.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Signing in as {user} on {endpoint} was refused because the mailbox is in use by another session (\"{words}\").",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Another program (a phone, another computer) has the mailbox open{!imap: over POP3, which allows one session at a time}: close it or wait until it is done, then try again.",
                },
        },
    [MS_F_AUTH_TEMPORARY_FAILURE] =
        {
            .code = "auth.temporary_failure",
            .severity = MS_SEVERITY_WARNING,
            .flags = MS_FF_ACCOUNT,
            .outcome = "the server failed temporarily",
            .severity_doc = "warning",
            .when = "`UNAVAILABLE`, `[SYS/TEMP]`, `SERVERBUG`, `LIMIT`, \"temporarily\", \"try again later\", connection limits.",
            .why = "Sign-in may work again later; if it persists, the server has a problem.",
            .remedy_doc = "Try again later; the admin should check the server logs.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Signing in as {user} on {endpoint} failed because of a temporary problem on the server's side (\"{words}\").",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Try again in a few minutes. If it persists, the admin should check the server's logs (authentication backend, storage, connection limits).",
                },
        },
    [MS_F_AUTH_NOT_ATTEMPTED_INSECURE] =
        {
            .code = "auth.not_attempted_insecure",
            .severity = MS_SEVERITY_INFO,
            .flags = MS_FF_ACCOUNT,
            .outcome = "not tried: no verified TLS",
            .severity_doc = "info",
            .when = "Credentials were given but not sent: the connection was not encrypted, or its certificate did not verify (the probe's reason), or the session stopped because TLS could not be had (`starttls.not_offered`, `starttls.refused`, `tls.handshake_failed`, `tls.timeout`).",
            .why = "mailscope sends credentials only over verified TLS, so the account was not checked here.",
            .remedy_doc = "Fix TLS, or use an endpoint with verified TLS; `--allow-insecure-auth` sends them anyway (trusted networks only).",
            .messages =
                {
                    [MS_T_DEFAULT] = "mailscope did not sign in as {user} on {endpoint}: {words}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Fix the endpoint's TLS (see the other findings) or use an endpoint with verified TLS; --allow-insecure-auth sends the credentials anyway, on a network you trust only.",
                },
        },
    [MS_F_AUTH_NOT_ATTEMPTED] =
        {
            .code = "auth.not_attempted",
            .severity = MS_SEVERITY_INFO,
            .flags = MS_FF_ACCOUNT,
            .outcome = "not tried",
            .severity_doc = "info",
            .when = "Credentials were not sent for another local reason (e.g. a user name the IMAP LOGIN command cannot carry). \"Another endpoint of this protocol was chosen to sign in\" is *not* a finding: it shows only in the JSON (`auth.outcome: not_chosen`).",
            .why = "The account was not checked here.",
            .remedy_doc = "Check the user name and secret; `--auth-mech` picks the mechanism.",
            .messages =
                {
                    [MS_T_DEFAULT] = "mailscope did not sign in as {user} on {endpoint}: {words}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the user name and the secret; --auth-mech PLAIN (or LOGIN, XOAUTH2, OAUTHBEARER) picks the mechanism; --trace shows the exchange without the secret.",
                },
        },
    [MS_F_ACCOUNT_QUOTA_NEARLY_FULL] =
        {
            .code = "account.quota_nearly_full",
            .severity = MS_SEVERITY_WARNING,
            .flags = MS_FF_ACCOUNT,
            .severity_doc = "warning",
            .when = "After sign-in, `GETQUOTAROOT INBOX` reports STORAGE at 90 % of the limit or more (\"full\" at 100 %).",
            .why = "When the mailbox is full, new mail bounces.",
            .remedy_doc = "Delete or archive mail (empty Trash and Junk), or ask for a larger quota.",
            .messages =
                {
                    [MS_T_DEFAULT] = "The mailbox of {user} is {?full:full}{!full:nearly full}: {used} of {limit} used ({percent}%, quota root \"{root}\"); new mail will be refused when it is full.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Delete or archive old mail (empty Trash and Junk too), or ask the mail admin for a larger quota.",
                },
        },
    [MS_F_AUTOCONFIG_POINTS_TO_BROKEN] =
        {
            .code = "autoconfig.points_to_broken",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "A server that an autoconfig file or an Autodiscover response names (a setting mail programs configure without asking) does not work securely: it fails, or its certificate does not verify. The message quotes the endpoint's own finding.",
            .why = "Thunderbird and Outlook set accounts up from these files: users get a server that does not work, and a helpdesk ticket (\"Thunderbird set me up with the wrong server\").",
            .remedy_doc = "Fix that server, or change the file to name one that works (the report's `recommended` settings).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{sources} {?several:tell}{!several:tells} mail programs to use {proto} at {host}:{port} ({security}), which {reason}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Make {host}:{port} work, or change {?several:these files}{!several:the file} to name a server that does{?suggest: ({suggest} works)}.",
                },
        },
    [MS_F_AUTOCONFIG_INSECURE] =
        {
            .code = "autoconfig.insecure",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "An autoconfig file or Autodiscover response tells mail programs to connect without encryption (socketType `plain`, SSL off, Encryption None), or the autoconfig file is only served over plain http.",
            .why = "Without encryption, passwords and mail cross the network in clear text; a file fetched over plain http can be rewritten by anyone on the path to send users to a server of the attacker's choosing.",
            .remedy_doc = "Publish SSL (implicit TLS) or STARTTLS settings; serve the autoconfig file over https (https://autoconfig.DOMAIN/mail/config-v1.1.xml).",
            .messages =
                {
                    [MS_T_DEFAULT] = "{sources} {?several:tell}{!several:tells} mail programs to use {proto} at {host}:{port} without encryption ({text}): passwords and mail would cross the network in clear text.{?tls: The server offers {tls} there.}",
                    [MS_T_INSECURE_HTTP_ONLY] = "The autoconfig file for {domain} is only served over plain http ({url}): anyone on the network path can rewrite it and send mail programs to a server of their choosing.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Change the setting to {?suggest:{suggest}}{!suggest:SSL (implicit TLS) or STARTTLS}.",
                    [MS_T_INSECURE_HTTP_ONLY] = "Serve the file over https: https://autoconfig.{domain}/mail/config-v1.1.xml with a certificate for autoconfig.{domain}.",
                },
        },
    [MS_F_AUTOCONFIG_DISAGREES] =
        {
            .code = "autoconfig.disagrees",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning (info when every one works)",
            .when = "For one protocol, Thunderbird's autoconfig, Outlook's Autodiscover and the SRV records name different servers (host or port): different mail programs get different settings.",
            .why = "Users of different programs end up on different servers; usually one of the sources is stale. When they all work it is only untidy.",
            .remedy_doc = "Publish the same (working) server in autoconfig, Autodiscover and the SRV records.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Mail programs are told different {proto} servers: {list}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Publish the same server everywhere{?suggest: ({suggest} works)}: autoconfig, Autodiscover and the SRV records.",
                },
        },
    [MS_F_AUTOCONFIG_INVALID] =
        {
            .code = "autoconfig.invalid",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "An autoconfig file or Autodiscover response that mail programs fetch does not parse, or lacks a required field (hostname, port, socketType; an incoming server); the message names the line.",
            .why = "Mail programs ignore a broken file and fall back to guessing, which may pick a wrong or insecure server.",
            .remedy_doc = "Fix the file (clientConfig 1.1 / Autodiscover POX); check it with an XML validator.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{kind} at {url} is not usable: {error}{?line: (line {line}{?column:, column {column}})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Fix the file at {url}{?line: around line {line}}: it must be well-formed XML with every server's hostname, port and socketType (an Autodiscover response: Protocol Type, Server, Port).",
                },
        },
    [MS_F_AUTODISCOVER_REDIRECT_OTHER_DOMAIN] =
        {
            .code = "autodiscover.redirect_other_domain",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "Autodiscover for the domain leads to a host in another domain (an HTTP redirect, the http redirect method, a redirectUrl/redirectAddr, or an SRV target).",
            .why = "Outlook asks the user whether to let that site configure the account; a user who agrees sends the password there. It is the classic way Autodiscover leaks credentials.",
            .remedy_doc = "Serve Autodiscover under your own domain (autodiscover.DOMAIN); if the other domain is not your provider, remove the redirect.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Autodiscover for {domain} ({url}) leads to {target}, another domain: Outlook asks the user whether to allow it, and a user who agrees sends their password to {target}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "If {target} is your mail provider, publish Autodiscover under your own domain (https://autodiscover.{domain}/autodiscover/autodiscover.xml) so users are not asked; if it is not, remove the redirect at once.",
                },
        },
    [MS_F_AUTOCONFIG_USERNAME_PATTERN] =
        {
            .code = "autoconfig.username_pattern",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning",
            .when = "With `--user`: the user name an autoconfig file or Autodiscover response tells mail programs to use differs from the one that signed in.",
            .why = "The mail program is set up with a user name the server refuses, and the user is asked for a password that seems wrong.",
            .remedy_doc = "Change the file's username (%EMAILADDRESS% or %EMAILLOCALPART%) to the form the server accepts.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{sources} {?several:tell}{!several:tells} mail programs to sign in to {proto} as \"{told}\"{?pattern: ({pattern})}, but \"{user}\" is the name that signed in.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Change the username to {?fix:{fix}}{!fix:\"{user}\"} so mail programs use the name the server accepts.",
                },
        },
    [MS_F_PERF_RESPONSE_TIME] =
        {
            .code = "perf.response_time",
            .severity = MS_SEVERITY_WARNING,
            .flags = 0,
            .severity_doc = "warning / critical",
            .when = "`-w SECONDS` / `-c SECONDS`: the endpoint's check took longer than the threshold (critical over `-c`, else warning over `-w`).",
            .why = "Slow answers make mail programs time out or feel broken.",
            .remedy_doc = "Check the server's load and the network path; the per-phase timings show which phase is slow.",
            .messages =
                {
                    [MS_T_DEFAULT] = "{id} took {seconds} s, over the {?critical:critical}{!critical:warning} threshold of {limit} s.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Check the server's load and the network path; the timings show which phase is slow.",
                },
        },
    [MS_F_REQUIRE_UNMET] =
        {
            .code = "require.unmet",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .severity_doc = "critical",
            .when = "`--require ITEM`: the item does not hold (a protocol or endpoint kind that does not work securely, a missing capability, `login` failed or not tried, `tls>=V` / `cert-days>=N` not met, a summary feature that is not yes). `endpoint` is null; the message names the item.",
            .why = "A requirement given with --require does not hold.",
            .remedy_doc = "Fix what the item names, or change the requirement.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Required, but not met: {item}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "See the other findings for why '{item}' does not hold; fix that, or drop it from --require.",
                },
        },
    [MS_F_FORBID_PRESENT] =
        {
            .code = "forbid.present",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = 0,
            .severity_doc = "critical",
            .when = "`--forbid ITEM`: the item holds (e.g. `--forbid pop3` and POP3 works; `--forbid auth.plaintext_login_allowed` and that finding was raised). `endpoint` is null; the message names the item.",
            .why = "Something forbidden with --forbid is present.",
            .remedy_doc = "Turn the feature off on the server, or change the requirement.",
            .messages =
                {
                    [MS_T_DEFAULT] = "Forbidden, but present: {item}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Change the server so that '{item}' no longer holds, or drop it from --forbid.",
                },
        },
    [MS_F_INTERNAL_ERROR] =
        {
            .code = "internal.error",
            .severity = MS_SEVERITY_CRITICAL,
            .flags = MS_FF_INTERNAL,
            .reason = "could not be checked (internal error)",
            .severity_doc = "critical",
            .when = "mailscope itself failed (out of memory, local system error) on an endpoint. Makes that endpoint's status `unknown`, and the overall status `unknown` unless something else is critical.",
            .why = "mailscope could not judge the endpoint: the result is unknown, not OK.",
            .remedy_doc = "Run again; report a bug with `--trace` output if it persists.",
            .messages =
                {
                    [MS_T_DEFAULT] = "mailscope could not finish checking {endpoint} because of a local error{?evidence: ({evidence})}.",
                },
            .remedies =
                {
                    [MS_T_DEFAULT] = "Run mailscope again; if it happens again, report a bug with the output of --trace.",
                },
        },
};
/* The server settings remedies name ({server_setting}; catalogue.h). Sources: Dovecot's
 * documentation (2.3: ssl_cert/ssl_key, disable_plaintext_auth, ssl_min_protocol; the 2.3 to
 * 2.4 upgrade: ssl_server_cert_file/ssl_server_key_file, auth_allow_cleartext), Courier's
 * imapd, imapd-ssl, pop3d and pop3d-ssl files (IMAP_TLS_REQUIRED, POP3_TLS_REQUIRED,
 * TLS_CERTFILE, TLS_PROTOCOL, IMAPDSTARTTLS, POP3AUTH_TLS, MAXDAEMONS, MAXPERIP), Cyrus's
 * imapd.conf(5) and pop3d.c (allowplaintext, tls_server_cert/tls_server_key, tls_versions,
 * sasl_mech_list), Exchange's Set-ImapSettings/Set-PopSettings (-LoginType SecureLogin,
 * -X509CertificateName, -MaxConnectionsPerUser) and Set-CASMailbox, Zimbra's attributes
 * (zimbraImapCleartextLoginEnabled, zimbraPop3CleartextLoginEnabled, zimbraImapEnabled,
 * zimbraPop3Enabled), the GNU Mailutils manual (server block: tls-mode, tls
 * ssl-certificate-file/ssl-key-file/ssl-priorities). Where none is given mailscope does not
 * know the setting and says so rather than guess. */
#define NOT_KNOWN "{server}: mailscope does not know this setting's name; see the server's documentation"
const struct ms_server_settings ms_server_settings[MS_TOPIC_COUNT] = {
    [MS_TOPIC_TLS_ENABLE] =
        {
            .examples = "the server software was not identified; for example Dovecot 2.3: ssl = required with ssl_cert and ssl_key, Dovecot 2.4: ssl = required with ssl_server_cert_file and ssl_server_key_file; Courier: TLS_CERTFILE in {?imap:imapd-ssl}{!imap:pop3d-ssl}; Exchange: Set-{?imap:Imap}{!imap:Pop}Settings -X509CertificateName",
            .unknown = NOT_KNOWN,
            .by_server =
                {
                    [MS_SERVER_DOVECOT] = "Dovecot 2.3: ssl = required with ssl_cert and ssl_key; Dovecot 2.4: ssl = required with ssl_server_cert_file and ssl_server_key_file",
                    [MS_SERVER_COURIER] = "Courier: TLS_CERTFILE in {?imap:imapd-ssl, and IMAPDSTARTTLS=YES}{!imap:pop3d-ssl}",
                    [MS_SERVER_CYRUS] = "Cyrus: tls_server_cert and tls_server_key in imapd.conf",
                    [MS_SERVER_EXCHANGE] = "Exchange: Set-{?imap:Imap}{!imap:Pop}Settings -X509CertificateName with the certificate's name",
                    [MS_SERVER_MAILUTILS] = "GNU Mailutils: tls-mode required in the server block, with ssl-certificate-file and ssl-key-file in its tls block",
                },
            .dovecot_23 = "Dovecot 2.3: ssl = required with ssl_cert and ssl_key",
            .dovecot_24 = "Dovecot 2.4: ssl = required with ssl_server_cert_file and ssl_server_key_file",
        },
    [MS_TOPIC_TLS_MIN_VERSION] =
        {
            .examples = "the server software was not identified; for example Dovecot: ssl_min_protocol = TLSv1.2; Cyrus: tls_versions: tls1_2 tls1_3",
            .unknown = NOT_KNOWN,
            .by_server =
                {
                    [MS_SERVER_DOVECOT] = "Dovecot: ssl_min_protocol = TLSv1.2",
                    [MS_SERVER_COURIER] = "Courier: TLS_PROTOCOL in {?imap:imapd-ssl}{!imap:pop3d-ssl}, values in couriertls(1)",
                    [MS_SERVER_CYRUS] = "Cyrus: tls_versions: tls1_2 tls1_3 in imapd.conf",
                    [MS_SERVER_MAILUTILS] = "GNU Mailutils: ssl-priorities in the server's tls block, a GnuTLS priority string such as NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
                },
        },
    [MS_TOPIC_PLAINTEXT_LOGIN] =
        {
            .examples = "the server software was not identified; for example Dovecot 2.3: disable_plaintext_auth = yes, Dovecot 2.4: auth_allow_cleartext = no; Courier: {?imap:IMAP}{!imap:POP3}_TLS_REQUIRED=1; Cyrus: allowplaintext: no; Exchange: Set-{?imap:Imap}{!imap:Pop}Settings -LoginType SecureLogin",
            .unknown = NOT_KNOWN,
            .by_server =
                {
                    [MS_SERVER_DOVECOT] = "Dovecot 2.3: disable_plaintext_auth = yes; Dovecot 2.4: auth_allow_cleartext = no",
                    [MS_SERVER_COURIER] = "Courier: {?imap:IMAP_TLS_REQUIRED=1 in imapd-ssl}{!imap:POP3_TLS_REQUIRED=1 in pop3d-ssl}",
                    [MS_SERVER_CYRUS] = "Cyrus: allowplaintext: no in imapd.conf",
                    [MS_SERVER_EXCHANGE] = "Exchange: Set-{?imap:Imap}{!imap:Pop}Settings -LoginType SecureLogin, then restart the {?imap:IMAP4}{!imap:POP3} services",
                    [MS_SERVER_ZIMBRA] = "Zimbra: zmprov mcf zimbra{?imap:Imap}{!imap:Pop3}CleartextLoginEnabled FALSE",
                    [MS_SERVER_MAILUTILS] = "GNU Mailutils: tls-mode required in the server block",
                },
            .dovecot_23 = "Dovecot 2.3: disable_plaintext_auth = yes",
            .dovecot_24 = "Dovecot 2.4: auth_allow_cleartext = no",
        },
    [MS_TOPIC_PASSWORD_MECHANISMS] =
        {
            .examples = "the server software was not identified; for example Dovecot: auth_mechanisms = plain login; Cyrus: sasl_mech_list: PLAIN LOGIN",
            .unknown = NOT_KNOWN,
            .by_server =
                {
                    [MS_SERVER_DOVECOT] = "Dovecot: auth_mechanisms = plain login",
                    [MS_SERVER_COURIER] = "Courier: {?imap:AUTH=PLAIN in IMAP_CAPABILITY_TLS in imapd}{!imap:PLAIN in POP3AUTH_TLS in pop3d}",
                    [MS_SERVER_CYRUS] = "Cyrus: sasl_mech_list: PLAIN LOGIN in imapd.conf",
                    [MS_SERVER_EXCHANGE] = "Exchange: Set-{?imap:Imap}{!imap:Pop}Settings -LoginType SecureLogin takes passwords over TLS",
                },
        },
    [MS_TOPIC_PROTOCOL_ACCESS] =
        {
            .examples = "the server software was not identified; for example Microsoft 365/Exchange: Set-CASMailbox -Identity {user} -{?imap:Imap}{!imap:Pop}Enabled $true; Google: enable {?imap:IMAP}{!imap:POP} in Gmail's settings and the admin console; Dovecot: the user's nologin or per-protocol passdb",
            .unknown = NOT_KNOWN,
            .by_server =
                {
                    [MS_SERVER_DOVECOT] = "Dovecot: the user's nologin or per-protocol passdb",
                    [MS_SERVER_EXCHANGE] = "Microsoft 365/Exchange: Set-CASMailbox -Identity {user} -{?imap:Imap}{!imap:Pop}Enabled $true",
                    [MS_SERVER_GMAIL] = "Google: enable {?imap:IMAP}{!imap:POP} in Gmail's settings and the admin console",
                    [MS_SERVER_ZIMBRA] = "Zimbra: zmprov ma {user} zimbra{?imap:Imap}{!imap:Pop3}Enabled TRUE",
                },
        },
    [MS_TOPIC_CONNECTION_LIMITS] =
        {
            .examples = "the server software was not identified; for example Dovecot: mail_max_userip_connections, process_limit; Courier: MAXDAEMONS, MAXPERIP in {?imap:imapd}{!imap:pop3d}",
            .unknown = NOT_KNOWN,
            .by_server =
                {
                    [MS_SERVER_DOVECOT] = "Dovecot: mail_max_userip_connections, process_limit",
                    [MS_SERVER_COURIER] = "Courier: MAXDAEMONS, MAXPERIP in {?imap:imapd}{!imap:pop3d}",
                    [MS_SERVER_EXCHANGE] = "Exchange: Set-{?imap:Imap}{!imap:Pop}Settings -MaxConnectionsPerUser",
                },
        },
};
#undef NOT_KNOWN
/* clang-format on */

_Static_assert(sizeof ms_catalogue / sizeof ms_catalogue[0] == MS_F_COUNT,
               "one catalogue row per finding id");

const struct ms_context_templates ms_context_templates[MS_CTX_COUNT] = {
    [MS_CTX_CLOSED_SIBLING] =
        {
            .message = "{endpoint} {?dns:does not resolve}{!dns:is closed}; {proto} on {siblings} "
                       "{?several:work}{!several:works}{?evidence: ({evidence})}.",
            .remedy = "Nothing to do if port {port} is closed on purpose: mail programs should use "
                      "{siblings}. If port {port} should work, check that the server listens on it "
                      "and that the firewall allows it.",
        },
    [MS_CTX_CLOSED_NOT_OFFERED] =
        {
            .message =
                "{endpoint} {?dns:does not resolve}{!dns:is closed}{?evidence: ({evidence})}; "
                "expected, since {domain} says {proto} is not offered (SRV target '.').",
            .remedy = "Nothing to do if {proto} is meant to be off. If it should work, publish SRV "
                      "records that name the server and open port {port}.",
        },
    [MS_CTX_AT_LOGOUT] =
        {
            .message =
                "{endpoint} did not end the session cleanly {phase}{?evidence: ({evidence})}; "
                "the session itself worked.",
            .remedy = "Nothing to do for users. Admins may check the server logs for errors at "
                      "logout.",
        },
    [MS_CTX_AFTER_SIGN_IN] =
        {
            .message = "{endpoint} signed in, then failed {?account:while its folders and quota "
                       "were read}{!account:to list its capabilities after sign-in}{?evidence: "
                       "({evidence})}; the account's features are partly unknown.",
            .remedy =
                "Check the server's logs for errors after sign-in (mail storage, permissions, "
                "quota backend); mailscope --trace shows the exchange.",
        },
};

const char *const ms_phrase_templates[MS_PH_COUNT] = {
    [MS_PH_STOPPED_BEFORE_SIGN_IN] = "the session stopped before sign-in ({code}{?evidence:: "
                                     "{evidence}}); credentials are sent only over verified TLS",
    [MS_PH_SRV_NXDOMAIN] = "the name does not exist (NXDOMAIN)",
    [MS_PH_SRV_NODATA_FAMILY] = "the name has no {?v4:IPv4 (A)}{!v4:IPv6 (AAAA)} record (only "
                                "{?v4:IPv4}{!v4:IPv6} was asked for, by -{?v4:4}{!v4:6})",
    [MS_PH_SRV_NODATA] = "the name has no A or AAAA record",
    [MS_PH_SRV_LOOKUP_FAILED] = "looking it up failed: {status}{?message:, {message}}",
    [MS_PH_SRV_NO_ADDRESS] = "it has no address",
    [MS_PH_NO_SERVER_DNS_SILENT] = "no server was found because DNS did not answer",
    [MS_PH_NO_SERVER_DNS_FAILED] = "no server was found because DNS failed",
    [MS_PH_NO_SERVER_NO_CANDIDATE] =
        "no server was found (no candidate from SRV, MX or conventional names)",
    [MS_PH_NO_SERVER_ONLY_CANDIDATE] =
        "no server was found (the only candidate, {host}, does not resolve)",
    [MS_PH_NO_SERVER_NONE_RESOLVES] =
        "no server was found (none of the {count} candidates resolves)",
    [MS_PH_NO_SERVER_NOT_PROBED] = "no server was found (candidates not probed: {reason})",
};

const char *ms_phrase_phase(enum ms_phase p)
{
    switch (p) {
    case MS_PHASE_RESOLVE: return "while its name was resolved";
    case MS_PHASE_CONNECT: return "while connecting";
    case MS_PHASE_TLS: return "during the TLS handshake";
    case MS_PHASE_GREETING: return "before its greeting";
    case MS_PHASE_CAPABILITY: return "while listing its capabilities";
    case MS_PHASE_STARTTLS: return "in answer to STARTTLS";
    case MS_PHASE_AUTH: return "while signing in";
    case MS_PHASE_ACCOUNT: return "while its folders and quota were read after sign-in";
    case MS_PHASE_LOGOUT: return "while logging out";
    default: return "at the end of the session";
    }
}

const char *ms_phrase_security(enum ms_security s)
{
    switch (s) {
    case MS_SECURITY_IMPLICIT: return "implicit TLS";
    case MS_SECURITY_STARTTLS: return "STARTTLS";
    default: return "no TLS";
    }
}

const char *ms_phrase_cert_problem(enum ms_cert_problem p)
{
    switch (p) {
    case MS_CERT_SELF_SIGNED: return "the certificate is self-signed";
    case MS_CERT_SELF_SIGNED_IN_CHAIN: return "the chain ends in an untrusted self-signed root";
    case MS_CERT_UNKNOWN_ISSUER:
        return "its issuer is unknown here (an unknown CA, or the server omits intermediates)";
    case MS_CERT_CHAIN_INCOMPLETE:
        return "the chain is incomplete (the server omits intermediate certificates)";
    case MS_CERT_REVOKED: return "the certificate has been revoked";
    case MS_CERT_BAD_SIGNATURE: return "a signature in the chain is invalid";
    case MS_CERT_KEY_TOO_SMALL: return "the certificate's key is too small";
    case MS_CERT_CA_KEY_TOO_SMALL: return "the CA's key is too small";
    case MS_CERT_WEAK_SIGNATURE: return "the chain uses a too weak signature algorithm";
    case MS_CERT_INVALID_CA: return "an issuer in the chain is not a valid CA";
    case MS_CERT_INVALID_PURPOSE: return "the certificate is not meant for TLS servers";
    case MS_CERT_UNTRUSTED: return "the root CA is not trusted for this purpose";
    default: return NULL;
    }
}

/* ---- the expander ---- */

unsigned long ms_catalogue_missing_vars;

struct out {
    char *buf;
    size_t cap, len; /* len may exceed cap - 1: what did not fit is counted, not written */
};

static void emit(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len + 1 < o->cap)
            o->buf[o->len] = s[i];
}

static const char *lookup(const struct ms_var *vars, size_t n, const char *name, size_t len,
                          bool *found)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0) {
            *found = true;
            return vars[i].value ? vars[i].value : "";
        }
    *found = false;
    return "";
}

/* The end of the brace group that starts at open ('{'), or NULL when it is not closed. */
static const char *group_end(const char *open)
{
    int depth = 0;
    for (const char *p = open; *p; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}' && --depth == 0)
            return p;
    }
    return NULL;
}

static void expand(struct out *o, const char *tpl, const char *end, const struct ms_var *vars,
                   size_t n)
{
    const char *p = tpl;
    while (p < end) {
        const char *open = memchr(p, '{', (size_t)(end - p));
        if (!open) {
            emit(o, p, (size_t)(end - p));
            return;
        }
        emit(o, p, (size_t)(open - p));
        const char *close = group_end(open);
        if (!close || close > end) { /* not a variable: the text as written */
            emit(o, open, (size_t)(end - open));
            return;
        }
        const char *name = open + 1;
        bool cond = *name == '?' || *name == '!';
        if (cond)
            name++;
        const char *colon = cond ? memchr(name, ':', (size_t)(close - name)) : NULL;
        size_t len = (size_t)((colon ? colon : close) - name);
        bool found;
        const char *value = lookup(vars, n, name, len, &found);
        if (!found)
            ms_catalogue_missing_vars++;
        if (!cond)
            emit(o, value, strlen(value));
        else if (colon && ((open[1] == '?') == (value[0] != '\0')))
            expand(o, colon + 1, close, vars, n);
        p = close + 1;
    }
}

void ms_catalogue_expand(char *dst, size_t cap, const char *tpl, const struct ms_var *vars,
                         size_t n)
{
    if (cap == 0)
        return;
    struct out o = {dst, cap, 0};
    expand(&o, tpl, tpl + strlen(tpl), vars, n);
    if (o.len + 1 > cap && cap >= 4) { /* cut: say so, as the judges' formatting does */
        memcpy(dst + cap - 4, "...", 4);
        return;
    }
    dst[o.len < cap ? o.len : cap - 1] = '\0';
}

const struct ms_catalogue_entry *ms_catalogue_find(const char *code)
{
    for (size_t i = 0; code && i < MS_F_COUNT; i++)
        if (strcasecmp(ms_catalogue[i].code, code) == 0)
            return &ms_catalogue[i];
    return NULL;
}

enum ms_finding_id ms_catalogue_id(const struct ms_catalogue_entry *e)
{
    return (enum ms_finding_id)(e - ms_catalogue);
}
