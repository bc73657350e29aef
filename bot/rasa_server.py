"""`python -m bot.rasa_server run ...`: Rasa's own command line, with one speed fix.

Rasa 3.6 validates every action-server response with ``jsonschema.validate``, which first
re-checks the (constant) schema against its metaschema: about 120 ms per custom action on this
machine, most of a resident's round trip. :func:`install_cached_schema_validation` keeps the
same validation but checks each schema once and reuses its validator.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

_lock = threading.Lock()


def install_cached_schema_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    original = jsonschema.validate
    validators: dict[str, Any] = {}

    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        if cls is not None or args or kwargs:
            return original(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True, default=str)
        validator = validators.get(key)
        if validator is None:
            with _lock:
                validator_class = validator_for(schema)
                validator_class.check_schema(schema)
                validator = validators.setdefault(key, validator_class(schema))
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            raise error
        return None

    jsonschema.validate = validate


def main() -> None:
    install_cached_schema_validation()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
