"""schemathesis hooks for scripts/schemathesis_check.sh.

The user import takes JSON Lines (`application/x-ndjson`), a media type schemathesis
has no serializer for: its generated bodies (strings) are sent as text.
"""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
