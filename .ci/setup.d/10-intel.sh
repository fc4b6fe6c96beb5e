# Intel: the OASIS STIX validator, in a virtual environment shared by every part.
VENV="$ROOT/target/ci-venv"
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check stix2-validator
VALIDATOR="$VENV/bin/stix2_validator"
