#!/usr/bin/env bash
# Refresh the translation catalogs after changing user-facing text:
# extract the messages, merge them into the Bahasa Indonesia catalog, list what is
# untranslated. Translate those in callcenter/translations/id/LC_MESSAGES/messages.po.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \
    -o callcenter/translations/messages.pot . > /dev/null 2>&1
.venv/bin/pybabel update --no-fuzzy-matching --ignore-obsolete -i callcenter/translations/messages.pot \
    -d callcenter/translations > /dev/null 2>&1
.venv/bin/pybabel compile -d callcenter/translations > /dev/null 2>&1
.venv/bin/python - <<'PY'
from babel.messages.pofile import read_po
with open("callcenter/translations/id/LC_MESSAGES/messages.po", "rb") as f:
    catalog = read_po(f)
missing = [m.id for m in catalog if m.id and not m.string]
print(f"untranslated: {len(missing)}")
for message in missing:
    print("  ", message)
PY
