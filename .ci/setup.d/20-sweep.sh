# Sweep: Debian's yara, which the parity test compares with.
apt_install yara
