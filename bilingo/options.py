"""One check for each option a person chooses, on the command line or in a job file.

The render plan's fields (`plan.RenderPlan`) and the transcription's (`transcribe.TranscribeOptions`)
declare what they take in their types: Literal choices, msgspec.Meta ranges, lengths and patterns.
`check` converts a value to its field's type and, where it does not fit, says in a person's words
what the field takes. The command line reads a flag's text with `argument`, a job file checks its
keys with `check`: a value is refused the same way wherever it is written, and a new option brings
its rules with its type, with no second list of them to keep.
"""
from __future__ import annotations

import enum
import functools
import typing
from typing import Any, Callable

import msgspec
from msgspec import inspect as mi


class Reset(enum.Enum):
    """What `--no-edition`, `--no-style`, … give: the option's default again, although the clip's plan
    says otherwise (None is "not given": keep the plan's). An enum member pickles as itself, so it
    reaches batch workers intact."""

    DEFAULT = "default"


DEFAULT = Reset.DEFAULT


@functools.cache
def _types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def fields(cls: type) -> tuple[str, ...]:
    """The option names of a msgspec Struct or a dataclass, in their declared order."""
    return tuple(_types(cls))


def _kind(cls: type, name: str) -> mi.Type:
    """The field's type as msgspec sees it, without the `| None` that means "not chosen"."""
    kind = mi.type_info(_types(cls)[name])
    if isinstance(kind, mi.UnionType):
        kinds = [k for k in kind.types if not isinstance(k, mi.NoneType)]
        kind = kinds[0] if len(kinds) == 1 else kind
    return kind


def check(cls: type, name: str, value: Any) -> Any:
    """`value` as the field `name` of `cls` holds it, else ValueError saying what the field takes.
    A list field also takes "a,b", as `--languages en,zh` does."""
    kind, given = _kind(cls, name), value
    if _codes(kind):  # language codes and the like: "EN,ZH" and "Zh" are what "en,zh" and "zh" mean
        value = value.lower() if isinstance(value, str) else value
    if isinstance(kind, mi.VarTupleType) and isinstance(value, str):
        value = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    try:
        return msgspec.convert(value, _types(cls)[name])
    except msgspec.ValidationError:
        why = _why(_ordered(kind, _types(cls)[name]), value)
        raise ValueError(f"{given!r}: {why}" if given is not value else why) from None


def _codes(kind: mi.Type) -> bool:
    """Whether a field holds two-letter codes (a language, or a list of them): read in any case."""
    item = kind.item_type if isinstance(kind, mi.VarTupleType) else kind
    if isinstance(item, mi.UnionType):  # `language: ... | None`
        item = next((t for t in item.types if isinstance(t, mi.LiteralType)), item)
    return isinstance(item, mi.LiteralType) and all(isinstance(v, str) and len(v) == 2 and v.islower()
                                                    for v in item.values)


def _ordered(kind: mi.Type, annotation: Any) -> mi.Type:
    """`kind` with its choices in the order they were declared (msgspec sorts them): ultrafast … veryslow."""
    def declared(t: Any) -> tuple:
        if typing.get_origin(t) is typing.Literal:
            return typing.get_args(t)
        return next((found for a in typing.get_args(t) if (found := declared(a))), ())

    order = declared(annotation)
    if isinstance(kind, mi.LiteralType) and order:
        return mi.LiteralType(values=order)
    if isinstance(kind, mi.VarTupleType) and isinstance(kind.item_type, mi.LiteralType) and order:
        return mi.VarTupleType(item_type=mi.LiteralType(values=order), min_length=kind.min_length,
                               max_length=kind.max_length)
    return kind


def _why(kind: mi.Type, value: Any) -> str:
    if isinstance(kind, mi.VarTupleType):
        if not isinstance(value, (list, tuple)):
            return f"{value!r} is not a list of {_what(kind.item_type)}"
        for item in value:
            try:
                msgspec.convert(item, _python(kind.item_type))
            except (msgspec.ValidationError, TypeError):
                return _why(kind.item_type, item)
        if kind.min_length and len(value) < kind.min_length:
            return f"give at least {kind.min_length}: {_what(kind.item_type)}"
        return f"{value!r} is not a list of {_what(kind.item_type)}"
    if isinstance(kind, (mi.IntType, mi.FloatType)):
        number = isinstance(value, int if isinstance(kind, mi.IntType) else (int, float))
        if number and not isinstance(value, bool):
            shown = f"{value:g}" if isinstance(value, float) else value  # 999 as typed, read as 999.0 or not
            return f"{shown} is out of range ({_range(kind)})"
        return f"{value!r} is not {_what(kind)}"
    if isinstance(kind, mi.StrType) and isinstance(value, str) and kind.pattern:
        return f"{value!r} does not match {kind.pattern}"
    return f"{value!r} is not {_what(kind)}"


def _what(kind: mi.Type) -> str:
    """What a value of `kind` is, in words: "a whole number (0–51)", "blur, crop or letterbox"."""
    if isinstance(kind, mi.LiteralType):
        return _either(kind.values)
    if isinstance(kind, mi.IntType):
        return f"a whole number ({_range(kind)})"
    if isinstance(kind, mi.FloatType):
        return f"a number ({_range(kind)})"
    if isinstance(kind, mi.BoolType):
        return "true or false"
    return "text"


def _either(values) -> str:
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _range(kind: mi.IntType | mi.FloatType) -> str:
    lo, hi = kind.ge, kind.le
    return f"{lo}–{hi}" if lo is not None and hi is not None else f"{lo} or more" if lo is not None else f"up to {hi}"


def _python(kind: mi.Type) -> Any:
    """A type msgspec converts to that checks what `kind` checks (for one item of a list)."""
    if isinstance(kind, mi.LiteralType):
        return typing.Literal[kind.values]  # type: ignore[valid-type]
    if isinstance(kind, mi.IntType):
        return typing.Annotated[int, msgspec.Meta(ge=kind.ge, le=kind.le)]
    if isinstance(kind, mi.FloatType):
        return typing.Annotated[float, msgspec.Meta(ge=kind.ge, le=kind.le)]
    if isinstance(kind, mi.StrType):
        return typing.Annotated[str, msgspec.Meta(pattern=kind.pattern)] if kind.pattern else str
    if isinstance(kind, mi.BoolType):
        return bool
    return Any


def choices(cls: type, name: str) -> tuple[str, ...]:
    """The values a choice field takes (of a list field: each item's), for help texts; () for a field
    that takes any value of its kind."""
    kind = _ordered(_kind(cls, name), _types(cls)[name])
    kind = kind.item_type if isinstance(kind, mi.VarTupleType) else kind
    return tuple(kind.values) if isinstance(kind, mi.LiteralType) else ()


def argument(cls: type, name: str) -> Callable[[str], Any]:
    """An argparse `type` for the flag of field `name`: its text read as the field's kind and `check`ed,
    so a bad value is refused in the words `check` gives a job file. A list field's flag takes "a,b"
    (with action="extend", the flag is repeatable too)."""
    import argparse

    kind = _kind(cls, name)

    def parse(text: str) -> Any:
        value: Any = text
        try:
            value = int(text) if isinstance(kind, mi.IntType) else float(text) if isinstance(kind, mi.FloatType) else text
        except ValueError:
            pass  # `check` says what the flag takes
        try:
            return check(cls, name, value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name  # argparse names the type in some messages
    return parse
