"""Pages through every object of a TAXII 2.1 server's first collection with the OASIS
client, `limit` objects a request, following `next`; prints `objects seconds`.

usage: taxii_fetch.py DISCOVERY_URL USER PASSWORD LIMIT
"""

import sys
import time

from taxii2client.v21 import Server, as_pages

URL, USER, PASSWORD, LIMIT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
collection = Server(URL, user=USER, password=PASSWORD).api_roots[0].collections[0]
start = time.perf_counter()
count = 0
for page in as_pages(collection.get_objects, per_request=LIMIT):
    count += len(page.get("objects", []))
print(count, f"{time.perf_counter() - start:.4f}")
