import jsonschema
import pytest

from bot.rasa_server import install_cached_schema_validation


def test_cached_validation_still_rejects_invalid_action_results(monkeypatch):
    monkeypatch.setattr(jsonschema, "validate", jsonschema.validate)
    install_cached_schema_validation()
    schema = {"type": "object", "properties": {"events": {"type": "array"}}}
    jsonschema.validate({"events": []}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"events": "not a list"}, schema)
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.validate({}, {"type": 12})
