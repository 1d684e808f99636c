"""Validate YAML settings against declarative pydantic models, each problem an Issue at its file:line.

A settings file is described by `Section` models: field types, defaults and allowed values are declared, and
small validators say what a value must be in words for people. Validation collects every problem (pydantic
reports all fields at once; the cross-key rules below are merged in), and each problem is located through
the YamlDoc's key lines, so a user reads what is wrong, where, and what to do.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from datatruth.yamlsource import Issue, KeyPath, YamlDoc

M = TypeVar("M", bound=BaseModel)
PROBLEM = "datatruth_problem"  # the error type of problem(): its context carries the message and the hint

# What a value of each pydantic type error had to be, in words.
_KINDS = {
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "date_type": "a date",
}


def problem(message: str, hint: str = "") -> PydanticCustomError:
    """An error for a validator to raise: `message` says what is wrong, `hint` what to do."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message, "hint": hint})


def field_name(info: ValidationInfo) -> str:
    """The key a field validator is checking, for messages."""
    return str(info.field_name)


@dataclass(frozen=True)
class Choice:
    """Keys of which a mapping needs exactly one (or at least one), with a hint showing how."""

    keys: tuple[str, ...]
    hint: str = ""


class Section(BaseModel):
    """One mapping of a settings file: unknown keys are refused, values are not coerced (text stays text).

    A key written as null means "the default" for keys that have one. `noun` names the mapping in messages
    ("a range check"); `exactly_one` and `at_least_one` are rules over which keys are present.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    noun: ClassVar[str] = "this section"
    example: ClassVar[str] = ""
    exactly_one: ClassVar[tuple[Choice, ...]] = ()
    at_least_one: ClassVar[tuple[Choice, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _present_keys(cls, data: Any, handler: Any) -> Any:
        """Drop nulls that stand for a default; check the key rules next to the fields, reporting both."""
        found: list[InitErrorDetails] = []
        if isinstance(data, Mapping):
            fields = cls.model_fields
            data = {
                k: v for k, v in data.items() if v is not None or (k in fields and fields[k].is_required())
            }
            found = [_rule_error(cls, message, hint, data) for message, hint in cls._key_rules(set(data))]
        try:
            model = handler(data)
        except ValidationError as err:
            if not found:
                raise
            raise ValidationError.from_exception_data(cls.__name__, found + _details(err)) from None
        if found:
            raise ValidationError.from_exception_data(cls.__name__, found)
        return model

    @classmethod
    def _key_rules(cls, present: set[Any]) -> list[tuple[str, str]]:
        out = []
        for choice in cls.exactly_one:
            if len(present.intersection(choice.keys)) != 1:
                out.append((f"{cls.noun} needs exactly one of {_either(choice.keys)}", choice.hint))
        for choice in cls.at_least_one:
            if not present.intersection(choice.keys):
                quoted = ", ".join(f"'{k}'" for k in choice.keys)
                out.append((f"{cls.noun} needs {quoted} or both", choice.hint))
        return out


def _either(keys: tuple[str, ...]) -> str:
    return " or ".join(f"'{k}'" for k in keys)


def _rule_error(cls: type[Section], message: str, hint: str, data: Any) -> InitErrorDetails:
    return {"type": problem(message, hint), "loc": (), "input": data}


def _details(err: ValidationError) -> list[InitErrorDetails]:
    """The errors of `err`, as details a new ValidationError can carry (type and context kept)."""
    out: list[InitErrorDetails] = []
    for e in err.errors(include_url=False):
        ctx = {**(e.get("ctx") or {}), "_msg": e["msg"]}
        out.append(
            {"type": PydanticCustomError(e["type"], "{_msg}", ctx), "loc": e["loc"], "input": e["input"]}
        )
    return out


def validate(
    model: type[M], data: Any, doc: YamlDoc, at: KeyPath = (), context: Any = None
) -> tuple[M | None, list[Issue]]:
    """Validate `data` (found at `at` in `doc`) as `model`: the model, or None and every problem located."""
    try:
        return model.model_validate(data, context=context), []
    except ValidationError as err:
        return None, [
            doc.issue(at + tuple(e["loc"]), *_describe(model, e)) for e in err.errors(include_url=False)
        ]


# -- messages for people ---------------------------------------------------------------------------------------


def _describe(root: type[BaseModel], error: Any) -> tuple[str, str]:
    """(message, hint) for one pydantic error."""
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    ctx = error.get("ctx") or {}
    if kind == PROBLEM:
        return ctx["message"], ctx.get("hint", "")
    if kind in ("extra_forbidden", "invalid_key"):
        return _unknown_key(_model_at(root, loc[:-1]), loc[-1])
    if kind == "missing":
        owner = _model_at(root, loc[:-1])
        noun = getattr(owner, "noun", Section.noun)
        return f"{noun} needs '{loc[-1]}'", getattr(owner, "example", "")
    if kind == "literal_error":
        return f"unknown {_key(loc).replace('_', ' ')} {_shown(value)}", f"use {ctx.get('expected', '')}"
    if kind in _KINDS:
        if isinstance(value, bool):
            return f"{_name(loc)} must be {_KINDS[kind]}, not a boolean", ""
        return f"{_name(loc)} must be {_KINDS[kind]}, got {type(value).__name__} {_shown(value)}", ""
    return f"{_name(loc)}: {ctx.get('_msg', error['msg'])}", ""


def _unknown_key(owner: type[BaseModel] | None, key: Any) -> tuple[str, str]:
    allowed = sorted(owner.model_fields) if owner is not None else []
    noun = getattr(owner, "noun", Section.noun)
    message = f"unknown key '{key}'" + (f" for {noun}" if noun != Section.noun else "")
    close = _closest(str(key), allowed)
    return message, f"did you mean '{close}'?" if close else f"allowed keys: {', '.join(allowed)}"


def _closest(word: str, options: list[str]) -> str | None:
    from rapidfuzz import process

    best = process.extractOne(word, options, score_cutoff=70) if options else None
    return best[0] if best else None


def _key(loc: tuple[Any, ...]) -> str:
    return next((str(part) for part in reversed(loc) if isinstance(part, str)), "value")


def _name(loc: tuple[Any, ...]) -> str:
    """How a located value is called in a message: 'row_cap', or item 2 of 'semantic_models'."""
    if loc and isinstance(loc[-1], int) and not isinstance(loc[-1], bool):
        return f"item {loc[-1] + 1} of '{_key(loc[:-1])}'"
    return f"'{_key(loc)}'"


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 80 else text[:77] + "..."


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class describing the mapping at `loc` under `root`, following fields and list items."""
    current: Any = root
    for part in loc:
        current = _bare(current)
        if isinstance(part, str) and isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field is not None else None
        elif isinstance(part, int) and get_origin(current) in (list, tuple):
            current = get_args(current)[0]
        else:
            return None
    current = _bare(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _bare(annotation: Any) -> Any:
    """`X` from Annotated[X, ...] and from X | None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _bare(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return _bare(members[0]) if len(members) == 1 else annotation
    return annotation
