# Actions: the real peers the act tests drive, all on 127.0.0.1.
#   scim2-server (PyPI)  SCIM 2.0 with a bearer token      TAKEDOWN_SCIM_URL, TAKEDOWN_SCIM_TOKEN
#   aiosmtpd (PyPI)      SMTP into a mailbox directory     TAKEDOWN_SMTP, TAKEDOWN_SMTP_MAILBOX
#   smbd (Debian samba)  port 4452 with SMB1 (NT1),        TAKEDOWN_SMB1_ON, TAKEDOWN_SMB1_OFF
#                        port 4453 SMB2_02 and up
#   named-checkzone (Debian bind9-utils) for the RPZ export, used by check.d/60-act.sh
apt_install samba bind9-utils
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
    echo "nothing listens on 127.0.0.1:$1" >&2
    return 1
}

export TAKEDOWN_SCIM_TOKEN="takedown-ci-$RANDOM$RANDOM"
"$ACT_VENV/bin/scim2-server" --hostname 127.0.0.1 --port 4480 --bearer-token "$TAKEDOWN_SCIM_TOKEN" \
    >"$ACT_DIR/scim.log" 2>&1 &
on_exit kill $!
export TAKEDOWN_SCIM_URL="http://127.0.0.1:4480/v2"

export TAKEDOWN_SMTP_MAILBOX="$ACT_DIR/mailbox"
"$ACT_VENV/bin/python" -m aiosmtpd -n -l 127.0.0.1:4425 -c aiosmtpd.handlers.Mailbox "$TAKEDOWN_SMTP_MAILBOX" \
    >"$ACT_DIR/smtpd.log" 2>&1 &
on_exit kill $!
export TAKEDOWN_SMTP="127.0.0.1:4425"

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
