"""The base of Greenlight's pydantic models: validators and serializers built on first use.

pydantic builds a model's core schema, validator and serializer when the class is defined unless
`defer_build` is set; a function imports many models and validates a few, so building them at
import was most of its cold start beyond boto3 (issue 8, part 6). Deferred, a model is built the
first time it validates or serializes (its schema, model_json_schema, builds it too), once per
process, and behaves the same."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
