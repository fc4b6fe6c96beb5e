"""Drives takedown's TAXII 2.1 server with the OASIS taxii2-client and checks what
comes back with the OASIS STIX validator.

usage: taxii_conformance.py BASE_URL ANALYST_TOKEN PARTNER_TOKEN

The analyst's organisation owns the imported intel (TLP:GREEN); the partner is a
member organisation with a viewer token. Exits non-zero on the first failure.
"""

import json
from datetime import datetime, timedelta, timezone
import sys
import time
import uuid

import requests

from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

BASE, TOKEN, PARTNER = sys.argv[1], sys.argv[2], sys.argv[3]
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
checks = 0


def check(condition, what):
    global checks
    if not condition:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1


def collection_for(token):
    # HTTP Basic: any user name, the API token as password.
    server = Server(f"{BASE}/taxii2/", user="ci", password=token)
    check(server.title == "takedown", "discovery has a title")
    roots = server.api_roots
    check(len(roots) == 1, "one API root")
    root = roots[0]
    check("application/taxii+json;version=2.1" in root.versions, "API root speaks TAXII 2.1")
    collections = root.collections
    check(len(collections) == 1, "one collection")
    return root, collections[0]


def validate(objects):
    options = ValidationOptions(version="2.1")
    for o in objects:
        result = validate_instance(o, options)
        check(result.is_valid, f"{o.get('id')} passes stix2-validator: {[str(e) for e in result.errors][:3]}")


root, coll = collection_for(TOKEN)
check(coll.can_read and coll.can_write, "the analyst may read and write")
_, partner = collection_for(PARTNER)
check(partner.can_read and not partner.can_write, "the viewer may read, not write")

# Paging with next through at least three pages.
everything = []
pages = 0
for envelope in as_pages(coll.get_objects, per_request=50):
    pages += 1
    everything.extend(envelope.get("objects", []))
check(pages >= 3, f"at least three pages with next ({pages})")
ids = [o["id"] for o in everything]
check(len(ids) == len(set(ids)), "no object twice across pages")
validate(everything)
print(f"{len(everything)} objects in {pages} pages, all valid")

# Every filter.
types = sorted({o["type"] for o in everything})
one_type = types[0]
env = coll.get_objects(type=one_type)
check(all(o["type"] == one_type for o in env.get("objects", [])) and env.get("objects"), f"match[type]={one_type}")
some = everything[0]
env = coll.get_objects(id=some["id"])
check([o["id"] for o in env["objects"]] == [some["id"]], "match[id]")
for version in ("first", "last", "all"):
    env = coll.get_objects(id=some["id"], version=version)
    check(len(env.get("objects", [])) >= 1, f"match[version]={version}")
if "modified" in some:
    env = coll.get_objects(id=some["id"], version=some["modified"])
    check(env["objects"][0]["modified"] == some["modified"], "match[version]=TIMESTAMP")
check(len(coll.get_objects(spec_version="2.1").get("objects", [])) > 0, "match[spec_version]=2.1")
check("objects" not in coll.get_objects(spec_version="2.0"), "match[spec_version]=2.0 selects nothing")
check(len(coll.get_objects(limit=7)["objects"]) == 7, "limit")
obj = coll.get_object(some["id"])
check(obj["objects"][0]["id"] == some["id"], "get one object")
versions = coll.object_versions(some["id"])
check(len(versions["versions"]) >= 1, "object versions")
manifest = coll.get_manifest(limit=5)
check(len(manifest["objects"]) == 5 and all("date_added" in m for m in manifest["objects"]), "manifest")

# Add objects, three times, and poll each status; one of them TLP:RED.
added = []
for i in range(3):
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": f"conformance {i}",
        "pattern": f"[domain-name:value = 'ci-{i}.example']",
        "pattern_type": "stix",
        "valid_from": now,
        "object_marking_refs": [TLP_RED if i == 2 else TLP_CLEAR],
    }
    status = coll.add_objects(json.dumps({"objects": [indicator]}), wait_for_completion=True, poll_interval=0.2)
    check(status.status == "complete" and status.success_count == 1, f"add objects {i}: {status.status}")
    status.refresh()
    check(status.success_count == 1, "status resource polled")
    added.append(indicator)
    time.sleep(0.05)
bad = coll.add_objects(json.dumps({"objects": [{"type": "indicator", "id": "nope"}]}), wait_for_completion=False)
check(bad.failure_count == 1, "a malformed object is a failure in the status")
# taxii2-client itself refuses to write where can_write is false; the server must too.
check(not partner.can_write, "the client sees the partner may not write")
refused = requests.post(
    coll.url + "objects/",
    auth=("ci", PARTNER),
    headers={"Accept": "application/taxii+json;version=2.1", "Content-Type": "application/taxii+json;version=2.1"},
    data=json.dumps({"objects": [added[0]]}),
)
check(refused.status_code == 403, f"a viewer's add is 403 ({refused.status_code})")
wrong_type = requests.post(
    coll.url + "objects/",
    auth=("ci", TOKEN),
    headers={"Accept": "application/taxii+json;version=2.1", "Content-Type": "application/json"},
    data=json.dumps({"objects": [added[0]]}),
)
check(wrong_type.status_code == 415, f"a body that is not TAXII is 415 ({wrong_type.status_code})")
wrong_accept = requests.get(coll.url, auth=("ci", TOKEN), headers={"Accept": "text/html"})
check(wrong_accept.status_code == 406, f"Accept: text/html is 406 ({wrong_accept.status_code})")
anonymous = requests.get(coll.url, headers={"Accept": "application/taxii+json;version=2.1"})
check(anonymous.status_code == 401, f"no credentials is 401 ({anonymous.status_code})")

# Paging with added_after: one object per page, each page after the last one's date.
first = coll.get_manifest(type="indicator", id=added[0]["id"])["objects"][0]["date_added"]
# The store already holds other indicators (the built-in pack, the import above), so the
# walk starts one millisecond (the store's precision) before the first add.
start = datetime.fromisoformat(first.replace("Z", "+00:00")) - timedelta(milliseconds=1)
seen = []
after = start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for _ in range(3):
    env = coll.get_manifest(type="indicator", added_after=after, limit=1)
    page = env.get("objects", [])
    check(len(page) == 1, "one object per added_after page")
    seen.append(page[0]["id"])
    after = page[0]["date_added"]
check(seen == [a["id"] for a in added], "added_after pages are the three adds in order")
check(first <= after, "dates only grow")

# TLP: the partner sees the CLEAR adds and the GREEN intel, never the RED one.
partner_ids = set()
for envelope in as_pages(partner.get_objects, per_request=200):
    partner_ids.update(o["id"] for o in envelope.get("objects", []))
check(added[0]["id"] in partner_ids and added[1]["id"] in partner_ids, "the partner sees CLEAR")
check(added[2]["id"] not in partner_ids, "the partner does not see RED")
check(set(ids) <= partner_ids, "the partner sees the GREEN intel")
print(f"TAXII conformance: {checks} checks passed")
