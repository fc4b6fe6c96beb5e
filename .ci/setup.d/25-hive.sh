# Registry hives: libhivex's hivexml, the independent reader the hive tests compare
# with, and hivexsh, the writer that plants WannaCry's entries in copies of the real
# hives.
apt_install libhivex-bin
