"""Writes the benchmark's STIX 2.1 objects: N indicators with fixed ids and times, as
one bundle (for `takedown intel import`) and as a medallion memory-backend data file
holding the same objects in one collection.

usage: taxii_objects.py N BUNDLE_OUT MEDALLION_DATA_OUT MEDALLION_ROOT_URL
"""

import json
import sys
import uuid

N, BUNDLE, DATA, ROOT_URL = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
NS = uuid.UUID("6f1c1f0e-7d3a-4b8e-9a52-1c0f5e2d9b41")
COLLECTION = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
TIME = "2017-05-12T00:00:00.000Z"


def indicator(i):
    a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NS, str(i))}",
        "created": TIME,
        "modified": TIME,
        "name": f"benchmark address {i}",
        "pattern": f"[ipv4-addr:value = '10.{a}.{b}.{c}']",
        "pattern_type": "stix",
        "valid_from": TIME,
        "indicator_types": ["malicious-activity"],
    }


objects = [indicator(i) for i in range(N)]
with open(BUNDLE, "w") as f:
    json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid5(NS, 'bundle')}", "objects": objects}, f)

# medallion keeps, per collection, the objects (each with its hidden _date_added)
# and a manifest entry per object version.
stored = [dict(o, _date_added=TIME) for o in objects]
manifest = [
    {"id": o["id"], "date_added": TIME, "version": o["modified"], "media_type": "application/stix+json;version=2.1"}
    for o in objects
]
data = {
    "/discovery": {
        "title": "medallion benchmark",
        "default": ROOT_URL,
        "api_roots": [ROOT_URL],
    },
    "bench": {
        "information": {
            "title": "bench",
            "versions": ["application/taxii+json;version=2.1"],
            "max_content_length": 104857600,
        },
        "status": [],
        "collections": [
            {
                "id": COLLECTION,
                "title": "benchmark objects",
                "can_read": True,
                "can_write": False,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": stored,
                "manifest": manifest,
            }
        ],
    },
}
with open(DATA, "w") as f:
    json.dump(data, f)
