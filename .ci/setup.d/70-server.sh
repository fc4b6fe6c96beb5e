# Server: the real TAXII client, the OASIS STIX validator and schemathesis, in a
# virtual environment of their own; Debian's chromium and chromedriver, driven by
# selenium, for the dashboard.
apt_install chromium chromium-driver fonts-liberation
SERVER_VENV="$WORK/server-venv"
python3 -m venv "$SERVER_VENV"
"$SERVER_VENV/bin/pip" install --quiet --disable-pip-version-check taxii2-client stix2-validator schemathesis selenium
export SERVER_VENV
