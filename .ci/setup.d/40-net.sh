# Capture analysis: a benign SMB capture made here, never committed. smbd listens on
# 127.0.0.1:4451 with SMB1 allowed and a guest share; tcpdump records smbclient
# listing shares, getting and putting files over SMB1 (NT1) and over SMB3.
# libpcap-dev and tcpreplay: the live capture check (.ci/check.d/40-net.sh).
apt_install samba smbclient tcpdump libpcap-dev tcpreplay
NET_SMB="$WORK/net-smb"
mkdir -p "$NET_SMB/share" "$NET_SMB/pid" "$NET_SMB/lock" "$NET_SMB/state" "$NET_SMB/cache" "$NET_SMB/private" "$NET_SMB/log"
chmod 0777 "$NET_SMB/share"
head -c 200000 /dev/urandom >"$NET_SMB/share/report.bin"
echo "quarterly figures" >"$NET_SMB/share/notes.txt"
chmod 0644 "$NET_SMB/share/"*
cat >"$NET_SMB/smb.conf" <<CONF
[global]
    server role = standalone server
    server min protocol = NT1
    server max protocol = SMB3
    client min protocol = NT1
    smb ports = 4451
    interfaces = 127.0.0.1
    bind interfaces only = yes
    pid directory = $NET_SMB/pid
    lock directory = $NET_SMB/lock
    state directory = $NET_SMB/state
    cache directory = $NET_SMB/cache
    private dir = $NET_SMB/private
    ncalrpc dir = $NET_SMB/state/ncalrpc
    log file = $NET_SMB/log/%m.log
    map to guest = Bad User
    guest account = nobody
    disable spoolss = yes
    load printers = no
    printing = bsd
    printcap name = /dev/null
[public]
    path = $NET_SMB/share
    guest ok = yes
    read only = no
    force user = root
CONF
# Its own process group: smbd signals its whole group when stopped.
smbd --foreground --configfile="$NET_SMB/smb.conf" >"$NET_SMB/log/smbd.out" 2>&1 &
NET_SMBD_PID=$!
on_exit "kill $NET_SMBD_PID"
for _ in $(seq 1 50); do
    (exec 3<>/dev/tcp/127.0.0.1/4451) 2>/dev/null && break
    sleep 0.2
done
export TAKEDOWN_BENIGN_PCAP="$WORK/net-benign.pcap"
tcpdump -i lo -s 0 -U -w "$TAKEDOWN_BENIGN_PCAP" 'tcp port 4451' >"$NET_SMB/log/tcpdump.out" 2>&1 &
NET_TCPDUMP_PID=$!
on_exit "kill $NET_TCPDUMP_PID"
sleep 1
echo "from the client" >"$NET_SMB/upload.txt"
for proto in NT1 SMB3; do
    smbclient -N -p 4451 -m "$proto" -L //127.0.0.1 --configfile="$NET_SMB/smb.conf"
    smbclient -N -p 4451 -m "$proto" //127.0.0.1/public --configfile="$NET_SMB/smb.conf" \
        -c "ls; get report.bin $NET_SMB/got-$proto.bin; get notes.txt $NET_SMB/notes-$proto.txt; put $NET_SMB/upload.txt up-$proto.txt; ls"
done
sleep 1
kill -INT "$NET_TCPDUMP_PID"
wait "$NET_TCPDUMP_PID" 2>/dev/null || true
cmp "$NET_SMB/got-NT1.bin" "$NET_SMB/share/report.bin"
cmp "$NET_SMB/got-SMB3.bin" "$NET_SMB/share/report.bin"
[ -s "$TAKEDOWN_BENIGN_PCAP" ]
