#!/bin/bash
# Starts or stops a private Postfix instance for PostfixTest.
#
# Usage: postfix-instance.sh start DIR PORT
#        postfix-instance.sh stop DIR
#
# "start" installs Debian's postfix package when /usr/sbin/postfix is missing, makes a test CA and a
# certificate for localhost and 127.0.0.1 signed by it, and starts an instance whose configuration,
# queue, data, log and mailboxes all live under DIR:
#
#   DIR/etc/        main.cf and master.cf, used with "postfix -c DIR/etc"
#   DIR/tls/        ca.crt, ca.key, server.crt, server.key
#   DIR/queue/      queue_directory
#   DIR/data/       data_directory
#   DIR/log/maillog written by the postlogd service
#   DIR/mail/example.org/   Maildir that receives all mail for example.org
#
# The instance listens on 127.0.0.1:PORT only and requires STARTTLS with TLS 1.2 or later before
# MAIL FROM. It accepts only recipients in example.org and delivers nothing to any other host. Every
# other destination uses the "error" transport, so Postfix never looks up MX records or opens outbound
# connections. The system's default instance (/etc/postfix) is not configured or started.
#
# Needs root, because the Postfix master binds the port and runs its daemons as the "postfix" user.
# Exits non-zero with a message on standard error when something is missing.

set -euo pipefail

fail() {
    echo "postfix-instance.sh: $*" >&2
    exit 1
}

usage() {
    fail "usage: $0 start DIR PORT | stop DIR"
}

install_postfix() {
    if [ -x /usr/sbin/postfix ]; then
        return
    fi
    command -v apt-get >/dev/null 2>&1 ||
        fail "/usr/sbin/postfix is missing and apt-get is not available; install Debian's postfix package"
    started=$(date +%s)
    # "No configuration" leaves /etc/postfix/main.cf unwritten, so the package starts no system-wide
    # listener on port 25.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
        fail "apt-get update failed; check the package sources or install postfix by hand"
    DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends postfix >&2 ||
        fail "apt-get install postfix failed"
    [ -x /usr/sbin/postfix ] || fail "apt-get installed postfix but /usr/sbin/postfix is still missing"
    echo "postfix-instance.sh: installed postfix in $(( $(date +%s) - started )) s" >&2
}

# Writes a CA and a server certificate for localhost and 127.0.0.1, both valid for two days.
create_certificates() {
    tls="$1"
    mkdir -p "$tls"
    command -v openssl >/dev/null 2>&1 || fail "openssl is missing; install Debian's openssl package"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Posthorn test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null ||
        fail "openssl could not create the test CA in $tls"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null ||
        fail "openssl could not create the server key in $tls"
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth" \
        "basicConstraints=CA:FALSE" >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
        -days 2 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null ||
        fail "openssl could not sign the server certificate in $tls"
    chmod 600 "$tls/ca.key" "$tls/server.key"
}

write_main_cf() {
    dir="$1"
    port="$2"
    cat >"$dir/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/queue
data_directory = $dir/data
meta_directory = $(postconf -d -h meta_directory)
mail_owner = postfix
setgid_group = postdrop

# Logging through postlogd into a file of this instance.
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir/log
syslog_name = posthorn-test

myhostname = localhost
mydomain = localhost
myorigin = localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_peername_lookup = no
biff = no
alias_maps =
alias_database =

# No relaying: only recipients in example.org are accepted, and nothing leaves this machine.
mynetworks = 127.0.0.1/32
relayhost =
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
default_transport = error:this test instance delivers nothing to other hosts
relay_transport = error:this test instance delivers nothing to other hosts
local_transport = error:this test instance has no local mailboxes
notify_classes =
bounce_queue_lifetime = 0
maximal_queue_lifetime = 0

# All mail for example.org goes into one Maildir under $dir/mail.
virtual_mailbox_domains = example.org
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = texthash:$dir/etc/virtual_mailboxes
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
enable_original_recipient = yes

# STARTTLS is required before MAIL FROM, with TLS 1.2 or later only.
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_tls_cert_file = $dir/tls/server.crt
smtpd_tls_key_file = $dir/tls/server.key
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
EOF
    echo "@example.org example.org/" >"$dir/etc/virtual_mailboxes"
}

# A minimal master.cf without chroot, so no files need copying into the queue directory.
write_master_cf() {
    dir="$1"
    port="$2"
    cat >"$dir/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
tlsmgr    unix  - - n 1000? 1 tlsmgr
virtual   unix  - n n - - virtual
postlog   unix-dgram n - n - 1 postlogd
EOF
}

start_instance() {
    dir="$1"
    port="$2"
    [ "$(id -u)" -eq 0 ] ||
        fail "must run as root: the Postfix master binds port $port and runs its daemons as user postfix"
    install_postfix
    getent passwd postfix >/dev/null || fail "user 'postfix' is missing; reinstall Debian's postfix package"
    getent group postdrop >/dev/null || fail "group 'postdrop' is missing; reinstall Debian's postfix package"

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    # An earlier run that was killed can leave its instance running from this directory.
    if [ -f "$dir/etc/main.cf" ] && postfix -c "$dir/etc" status >/dev/null 2>&1; then
        echo "postfix-instance.sh: stopping the instance left running from $dir/etc" >&2
        postfix -c "$dir/etc" stop >&2 || fail "failed to stop the instance left running from $dir/etc"
    fi
    rm -rf "$dir/etc" "$dir/tls" "$dir/queue" "$dir/data" "$dir/log" "$dir/mail"
    mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/log" "$dir/mail"
    # The daemons run as "postfix" and the virtual agent as "nobody", so every parent must be searchable.
    chmod 755 "$dir"
    chown postfix "$dir/data"
    chown nobody:"$(id -gn nobody)" "$dir/mail"

    create_certificates "$dir/tls"
    write_main_cf "$dir" "$port"
    write_master_cf "$dir" "$port"

    postfix -c "$dir/etc" check >&2 || fail "postfix check failed for $dir/etc; see the messages above"
    postfix -c "$dir/etc" start >&2 || fail "postfix -c $dir/etc start failed; see $dir/log/maillog"
    wait_for_port "$port" || fail "Postfix did not listen on 127.0.0.1:$port within 10 s; see $dir/log/maillog"
}

wait_for_port() {
    attempts=0
    while [ "$attempts" -lt 100 ]; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        attempts=$((attempts + 1))
        sleep 0.1
    done
    return 1
}

stop_instance() {
    dir="$1"
    [ -f "$dir/etc/main.cf" ] || fail "no instance configuration in $dir/etc"
    if postfix -c "$dir/etc" status >/dev/null 2>&1; then
        postfix -c "$dir/etc" stop >&2
    fi
}

[ $# -ge 2 ] || usage
case "$1" in
start)
    [ $# -eq 3 ] || usage
    start_instance "$2" "$3"
    ;;
stop)
    [ $# -eq 2 ] || usage
    stop_instance "$2"
    ;;
*)
    usage
    ;;
esac
