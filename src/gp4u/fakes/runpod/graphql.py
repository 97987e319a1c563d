"""The GraphQL side of the fake RunPod API: a slice of RunPod's schema (type → field → object
type, None for scalars) and a minimal parser for executable documents — one query or mutation
with variables, aliases, arguments and nested selections, but no fragments, directives or block
strings — producing an `Operation` of `Field`s whose argument values may hold `Var`
placeholders. `validate` checks a selection set against the schema, `bind` substitutes variables,
and the two exceptions carry RunPod's error codes: `BadRequest` for what is rejected outright
(HTTP 400) and `FieldError` for a resolver's refusal (HTTP 200 with `errors`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

# ---- a slice of RunPod's schema: type → field → object type (None for scalars) --------------


def _scalars(names: str) -> dict[str, str | None]:
    return dict.fromkeys(names.split())


SCHEMA: dict[str, dict[str, str | None]] = {
    "Query": {"gpuTypes": "GpuType", "pod": "Pod", "myself": "User"},
    "Mutation": {
        "podFindAndDeployOnDemand": "Pod",
        "podRentInterruptable": "Pod",
        "podTerminate": None,
    },
    "GpuType": _scalars(
        "id displayName manufacturer memoryInGb cudaCores maxGpuCount maxGpuCountSecureCloud "
        "maxGpuCountCommunityCloud secureCloud communityCloud securePrice communityPrice "
        "secureSpotPrice communitySpotPrice oneWeekPrice oneMonthPrice"
    )
    | {"lowestPrice": "LowestPrice"},
    "LowestPrice": _scalars(
        "gpuName gpuTypeId minimumBidPrice uninterruptablePrice minVcpu minMemory stockStatus "
        "maxUnreservedGpuCount availableGpuCounts countryCode rentedCount totalCount"
    ),
    "Pod": _scalars(
        "id name desiredStatus imageName gpuCount vcpuCount memoryInGb costPerHr podType "
        "containerDiskInGb volumeInGb volumeMountPath dockerArgs dockerId env port ports "
        "machineId lastStatusChange uptimeSeconds"
    )
    | {"runtime": "PodRuntime", "machine": "PodMachineInfo"},
    "PodRuntime": {"uptimeInSeconds": None, "ports": "PodRuntimePorts", "gpus": "PodRuntimeGpus"},
    "PodRuntimePorts": _scalars("ip isIpPublic privatePort publicPort type"),
    "PodRuntimeGpus": _scalars("id gpuUtilPercent memoryUtilPercent"),
    "PodMachineInfo": _scalars("gpuDisplayName gpuTypeId podHostId location"),
    "User": {"id": None, "email": None, "pods": "Pod"},
}
AUTHENTICATED = frozenset({"pod", "myself"})  # and every mutation


class BadRequest(Exception):
    """A document or input the server rejects outright (HTTP 400)."""

    def __init__(self, message: str, code: str = "GRAPHQL_VALIDATION_FAILED") -> None:
        super().__init__(message)
        self.message, self.code = message, code


class FieldError(Exception):
    """A resolver's refusal: HTTP 200, `errors` with the field's path, `data: null`."""

    def __init__(self, message: str, code: str = "INTERNAL_SERVER_ERROR") -> None:
        super().__init__(message)
        self.message, self.code = message, code


# ---- parsing GraphQL documents --------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<skip>[\s,\ufeff]+|\#[^\n]*)
      |(?P<spread>\.\.\.)
      |(?P<punct>[!$():=@\[\]{}|&])
      |(?P<block>\"\"\")
      |(?P<string>"(?:[^"\\\n]|\\.)*")
      |(?P<number>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)
      |(?P<name>[_A-Za-z][_0-9A-Za-z]*)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Var:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    selections: list[Field] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class Operation:
    kind: str  # query | mutation
    variables: dict[str, tuple[str, Any]]  # name → (type, default)
    selections: list[Field]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise BadRequest(f'Syntax Error: Unexpected character "{text[pos]}".', "PARSE_FAILED")
        kind = match.lastgroup or ""
        if kind == "block":
            raise BadRequest("Syntax Error: block strings are not supported.", "PARSE_FAILED")
        if kind != "skip":
            tokens.append((kind, match.group()))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent over one executable document with a single operation."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", "<EOF>")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        got_kind, got = self.peek()
        if (value is not None and got != value) or (kind is not None and got_kind != kind):
            raise BadRequest(
                f"Syntax Error: Expected {value or kind}, found {got}.", "PARSE_FAILED"
            )
        self.pos += 1
        return got

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] in ("punct", "spread"):
            self.pos += 1
            return True
        return False

    def document(self) -> Operation:
        kind, variables = "query", {}
        if self.peek()[1] != "{":
            kind = self.take(kind="name")
            if kind not in ("query", "mutation"):
                raise BadRequest(f'Syntax Error: Unexpected Name "{kind}".', "PARSE_FAILED")
            if self.peek()[0] == "name":
                self.take()
            if self.accept("("):
                variables = self.variable_definitions()
        operation = Operation(kind, variables, self.selection_set())
        if self.peek()[0] != "eof":
            raise BadRequest("This fake accepts one operation per document.")
        return operation

    def variable_definitions(self) -> dict[str, tuple[str, Any]]:
        definitions = {}
        while not self.accept(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            type_name = self.type_ref()
            default = self.value() if self.accept("=") else None
            definitions[name] = (type_name, default)
        return definitions

    def type_ref(self) -> str:
        if self.accept("["):
            inner = f"[{self.type_ref()}]"
            self.take("]")
        else:
            inner = self.take(kind="name")
        return inner + "!" if self.accept("!") else inner

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = []
        while not self.accept("}"):
            if self.peek()[0] == "spread":
                raise BadRequest("This fake does not support fragments.")
            fields.append(self.field())
        if not fields:
            raise BadRequest("Syntax Error: Expected Name, found }.", "PARSE_FAILED")
        return fields

    def field(self) -> Field:
        name, alias = self.take(kind="name"), None
        if self.accept(":"):
            alias, name = name, self.take(kind="name")
        args = {}
        if self.accept("("):
            while not self.accept(")"):
                arg = self.take(kind="name")
                self.take(":")
                args[arg] = self.value()
        if self.peek()[1] == "@":
            raise BadRequest("This fake does not support directives.")
        selections = self.selection_set() if self.peek()[1] == "{" else []
        return Field(name, alias, args, selections)

    def value(self) -> Any:
        kind, text = self.peek()
        if self.accept("$"):
            return Var(self.take(kind="name"))
        if self.accept("["):
            items = []
            while not self.accept("]"):
                items.append(self.value())
            return items
        if self.accept("{"):
            obj = {}
            while not self.accept("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value()
            return obj
        self.pos += 1
        if kind == "string":
            return orjson.loads(text)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, text)  # enum → str
        raise BadRequest(f"Syntax Error: Unexpected {text}.", "PARSE_FAILED")


def parse_operation(text: str) -> Operation:
    return _Parser(text).document()


def validate(type_name: str, selections: list[Field]) -> None:
    """Every selected field exists, and objects (only objects) have sub-selections."""
    for selected in selections:
        if selected.name == "__typename":
            continue
        fields = SCHEMA[type_name]
        if selected.name not in fields:
            raise BadRequest(f'Cannot query field "{selected.name}" on type "{type_name}".')
        child = fields[selected.name]
        if child is None and selected.selections:
            raise BadRequest(
                f'Field "{selected.name}" must not have a selection since its type has no '
                "subfields."
            )
        if child is not None and not selected.selections:
            raise BadRequest(
                f'Field "{selected.name}" of type "{child}" must have a selection of subfields.'
            )
        if child is not None:
            validate(child, selected.selections)


def bind(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, list):
        return [bind(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: bind(v, variables) for k, v in value.items()}
    return value
