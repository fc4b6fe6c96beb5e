# Actions: the real peers the act tests drive, all on 127.0.0.1.
#   scim2-server (PyPI)  SCIM 2.0 with a bearer token      TAKEDOWN_SCIM_URL, TAKEDOWN_SCIM_TOKEN
#   aiosmtpd (PyPI)      SMTP into a mailbox directory     TAKEDOWN_SMTP, TAKEDOWN_SMTP_MAILBOX
#                        4426 requiring STARTTLS, 4465     TAKEDOWN_SMTP_STARTTLS, TAKEDOWN_SMTPS,
#                        SMTPS, certificate from a CA      TAKEDOWN_SMTP_CA
#                        made here with openssl
#   smbd (Debian samba)  port 4452 with SMB1 (NT1),        TAKEDOWN_SMB1_ON, TAKEDOWN_SMB1_OFF
#                        port 4453 SMB2_02 and up
#   webhook (Debian, adnanh/webhook) a hook checking our   TAKEDOWN_WEBHOOK_URL, TAKEDOWN_WEBHOOK_SECRET,
#                        HMAC-SHA256 header, recording    TAKEDOWN_WEBHOOK_LOG
#                        each payload it accepts
#   named-checkzone (Debian bind9-utils) for the RPZ export, used by check.d/60-act.sh
apt_install samba bind9-utils webhook openssl
ACT_DIR="$WORK/act"
mkdir -p "$ACT_DIR"
ACT_VENV="$ACT_DIR/venv"
python3 -m venv "$ACT_VENV"
"$ACT_VENV/bin/pip" install --quiet --disable-pip-version-check scim2-server aiosmtpd

act_wait_port() { # PORT: wait up to 20 s for something to listen
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.2
    done
    echo "nothing listens on 127.0.0.1:$1; the peers' logs end:" >&2
    tail -n 5 "$ACT_DIR"/*.log >&2 2>/dev/null || true
    return 1
}

export TAKEDOWN_SCIM_TOKEN="takedown-ci-$RANDOM$RANDOM"
"$ACT_VENV/bin/scim2-server" --hostname 127.0.0.1 --port 4480 --bearer-token "$TAKEDOWN_SCIM_TOKEN" \
    >"$ACT_DIR/scim.log" 2>&1 &
on_exit kill $!
export TAKEDOWN_SCIM_URL="http://127.0.0.1:4480/v2"

export TAKEDOWN_SMTP_MAILBOX="$ACT_DIR/mailbox"
# Made here, once: the three SMTP servers below share it, and two of them creating it
# at the same moment race (the loser exits with "File exists" and its port stays shut).
"$ACT_VENV/bin/python" -c 'import mailbox, sys; mailbox.Maildir(sys.argv[1], create=True)' "$TAKEDOWN_SMTP_MAILBOX"
"$ACT_VENV/bin/python" -m aiosmtpd -n -l 127.0.0.1:4425 -c aiosmtpd.handlers.Mailbox "$TAKEDOWN_SMTP_MAILBOX" \
    >"$ACT_DIR/smtpd.log" 2>&1 &
on_exit kill $!
export TAKEDOWN_SMTP="127.0.0.1:4425"

# A private CA and a certificate for 127.0.0.1 and localhost, made for this run,
# as a mail admin's internal relay would have; the relays deliver into the same
# mailbox. aiosmtpd with --tlscert requires STARTTLS before MAIL FROM.
ACT_TLS="$ACT_DIR/tls"
mkdir -p "$ACT_TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=takedown CI CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$ACT_TLS/ca.key" -out "$ACT_TLS/ca.pem"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$ACT_TLS/smtp.key" -out "$ACT_TLS/smtp.csr"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    >"$ACT_TLS/smtp.ext"
openssl x509 -req -in "$ACT_TLS/smtp.csr" -CA "$ACT_TLS/ca.pem" -CAkey "$ACT_TLS/ca.key" -CAcreateserial \
    -days 2 -extfile "$ACT_TLS/smtp.ext" -out "$ACT_TLS/smtp.pem"
"$ACT_VENV/bin/python" -m aiosmtpd -n -l 127.0.0.1:4426 --tlscert "$ACT_TLS/smtp.pem" --tlskey "$ACT_TLS/smtp.key" \
    -c aiosmtpd.handlers.Mailbox "$TAKEDOWN_SMTP_MAILBOX" >"$ACT_DIR/smtpd-starttls.log" 2>&1 &
on_exit kill $!
"$ACT_VENV/bin/python" -m aiosmtpd -n -l 127.0.0.1:4465 --smtpscert "$ACT_TLS/smtp.pem" --smtpskey "$ACT_TLS/smtp.key" \
    -c aiosmtpd.handlers.Mailbox "$TAKEDOWN_SMTP_MAILBOX" >"$ACT_DIR/smtps.log" 2>&1 &
on_exit kill $!
export TAKEDOWN_SMTP_STARTTLS="127.0.0.1:4426" TAKEDOWN_SMTPS="127.0.0.1:4465" TAKEDOWN_SMTP_CA="$ACT_TLS/ca.pem"

# The webhook receiver: one hook that only runs when X-Takedown-Signature is the
# body's HMAC-SHA256 under the secret (webhook strips the sha256= prefix), and
# then appends the payload to a file the tests read. Its answer waits for the
# command, so a 200 means the payload is on disk. No signature header: 403 (the
# mismatch code); a wrong signature is an error to webhook 2.8, answered 500.
export TAKEDOWN_WEBHOOK_SECRET="whsec-$RANDOM$RANDOM$RANDOM"
export TAKEDOWN_WEBHOOK_LOG="$ACT_DIR/webhook-received.jsonl"
: >"$TAKEDOWN_WEBHOOK_LOG"
cat >"$ACT_DIR/webhook-record.sh" <<RECORD
#!/bin/sh
# \$1: the payload as webhook passes it; one line per accepted request.
printf '%s\\n' "\$1" >>"$TAKEDOWN_WEBHOOK_LOG"
RECORD
chmod +x "$ACT_DIR/webhook-record.sh"
cat >"$ACT_DIR/hooks.json" <<HOOKS
[{
  "id": "takedown-account",
  "execute-command": "$ACT_DIR/webhook-record.sh",
  "pass-arguments-to-command": [{ "source": "entire-payload" }],
  "include-command-output-in-response": true,
  "http-methods": ["POST"],
  "trigger-rule-mismatch-http-response-code": 403,
  "trigger-rule": { "match": {
    "type": "payload-hmac-sha256",
    "secret": "$TAKEDOWN_WEBHOOK_SECRET",
    "parameter": { "source": "header", "name": "X-Takedown-Signature" }
  } }
}]
HOOKS
webhook -hooks "$ACT_DIR/hooks.json" -ip 127.0.0.1 -port 4490 -http-methods POST -verbose \
    >"$ACT_DIR/webhook.log" 2>&1 &
on_exit kill $!
export TAKEDOWN_WEBHOOK_URL="http://127.0.0.1:4490/hooks/takedown-account"

# Two smbd, each with its own configuration and directories, in the foreground of
# a background job so that its pid is ours to stop. smbd keeps its own process
# group: on SIGTERM it signals its whole group, which must not be this script's.
act_smbd() { # PORT MIN_PROTOCOL
    local d="$ACT_DIR/smbd-$1"
    mkdir -p "$d"/{lock,state,cache,pid,private,log,share}
    cat >"$d/smb.conf" <<CONF
[global]
    server min protocol = $2
    smb ports = $1
    interfaces = 127.0.0.1
    bind interfaces only = yes
    disable netbios = yes
    lock directory = $d/lock
    state directory = $d/state
    cache directory = $d/cache
    pid directory = $d/pid
    private dir = $d/private
    ncalrpc dir = $d/ncalrpc
    log file = $d/log/smbd.log
    map to guest = Bad User
    server role = standalone server
[share]
    path = $d/share
    guest ok = yes
CONF
    smbd --foreground --configfile="$d/smb.conf" >"$d/log/stdout" 2>&1 &
    on_exit kill $!
    act_wait_port "$1"
}
act_smbd 4452 NT1
act_smbd 4453 SMB2_02
export TAKEDOWN_SMB1_ON="127.0.0.1:4452" TAKEDOWN_SMB1_OFF="127.0.0.1:4453"
export TAKEDOWN_SMB1_ON_CONF="$ACT_DIR/smbd-4452/smb.conf" TAKEDOWN_SMB1_OFF_CONF="$ACT_DIR/smbd-4453/smb.conf"
act_wait_port 4480
act_wait_port 4425
act_wait_port 4426
act_wait_port 4465
act_wait_port 4490
