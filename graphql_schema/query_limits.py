"""Depth, alias and cost limits measured in one pass, linear in the document.

strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk every fragment spread
anew: a ~1 KB document whose fragments each spread the previous one twice makes them walk
2^n copies (20 fragments took 13 s, 29 froze the server for minutes, before any
credential is checked). Here each fragment is measured once, bottom-up, and the figures
of a spread are its fragment's memoised ones; the figures themselves are the *expanded*
sizes (a fragment spread twice counts twice), so the bomb is refused, quickly.

The cost bounds the work of a valid query: every field costs 1, times the size of the
lists it sits in. A field with a ``first`` argument (a connection) multiplies its subtree by
``first`` (the argument's default when omitted, the page maximum when it is a variable,
since variables are not known at validation); other list fields by ``LIST_FACTOR``.
Introspection fields (``__schema``, ``__type``, ``__typename``) count 1 and are not
descended into: their work is bounded by the schema, as in strawberry's depth limiter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

from graphql_schema.pagination import MAX_PAGE

# Assumed size of a list field without a ``first`` argument (receipt lines, vouchers,
# breakdown items, reward levels): small in practice, never free.
LIST_FACTOR = 10

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class Measure:
    """Expanded figures of a selection set: nesting depth, aliases, weighted cost."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def beside(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth), self.aliases + other.aliases, self.cost + other.cost
        )


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Measurer:
    def __init__(self, context: ValidationContext) -> None:
        self.schema = context.schema
        self.fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Measure] = {}
        self.in_progress: set[str] = set()

    def fragment(self, name: str) -> Measure:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return Measure()  # unknown or cyclic: other rules report it
        self.in_progress.add(name)
        parent = self.schema.get_type(definition.type_condition.name.value)
        measured = self.selection_set(definition.selection_set, parent)
        self.in_progress.discard(name)
        self.memo[name] = measured
        return measured

    def selection_set(self, node: SelectionSetNode, parent: Any) -> Measure:
        total = Measure()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total.beside(self.field(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.beside(self.fragment(selection.name.value))
            elif isinstance(selection, InlineFragmentNode):
                inner = parent
                if selection.type_condition is not None:
                    inner = self.schema.get_type(selection.type_condition.name.value)
                total = total.beside(self.selection_set(selection.selection_set, inner))
        return total

    def field(self, node: FieldNode, parent: Any) -> Measure:
        aliases = 1 if node.alias is not None else 0
        if node.name.value.startswith("__") or node.selection_set is None:
            return Measure(0, aliases, 1)
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # an unknown field: FieldsOnCorrectTypeRule reports it
            inner = self.selection_set(node.selection_set, None)
            return Measure(inner.depth + 1, aliases + inner.aliases, 1 + inner.cost)
        inner = self.selection_set(node.selection_set, get_named_type(definition.type))
        factor = self._factor(node, definition, parent)
        return Measure(inner.depth + 1, aliases + inner.aliases, 1 + factor * inner.cost)

    def _factor(self, node: FieldNode, definition: Any, parent: Any) -> int:
        if "first" in definition.args:
            given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
            default = definition.args["first"].default_value
            if isinstance(given, IntValueNode):
                size = int(given.value)
            elif given is None and isinstance(default, int):
                size = default
            else:  # a variable: not known at validation, assume the largest page
                size = MAX_PAGE
            return max(1, min(size, MAX_PAGE))
        if _is_list(definition.type):
            # A connection's edges are as many as its ``first``, counted on the connection.
            parent_name = getattr(parent, "name", "")
            return 1 if parent_name.endswith("Connection") else LIST_FACTOR
        return 1


def limits_rule(*, max_depth: int, max_aliases: int, max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing documents past the depth, alias or cost limit.

    Build it once per schema: the shared validation cache is keyed by the rule classes.
    """

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measurer = _Measurer(context)
            total = Measure()
            for definition in context.document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                root = self._root_type(context, definition.operation)
                measured = measurer.selection_set(definition.selection_set, root)
                name = definition.name.value if definition.name else "anonymous"
                if measured.depth > max_depth:
                    self._refuse(f"'{name}' exceeds maximum operation depth of {max_depth}")
                if measured.cost > max_cost:
                    self._refuse(
                        f"'{name}' costs {measured.cost}, more than the allowed {max_cost} "
                        "(each field counts once per item of the lists it is in): "
                        "ask for fewer fields or smaller pages"
                    )
                total = total.beside(measured)
            if total.aliases > max_aliases:
                self._refuse(f"{total.aliases} aliases found. Allowed: {max_aliases}")

        @staticmethod
        def _root_type(context: ValidationContext, operation: OperationType) -> Any:
            schema = context.schema
            if operation == OperationType.MUTATION:
                return schema.mutation_type
            if operation == OperationType.SUBSCRIPTION:
                return schema.subscription_type
            return schema.query_type

        def _refuse(self, message: str) -> None:
            self.report_error(GraphQLError(message, extensions={"code": QUERY_TOO_COMPLEX}))

    return DocumentLimits


# Field nodes a document may hold, before any validation rule walks it. graphql-core's
# OverlappingFieldsCanBeMergedRule compares every pair of fields with the same response
# name in a selection set: ``{ me{id} me{id} ... }`` x 495 (3 KB, under the token limit)
# cost 1-2.5 s of CPU. Checked first (linear, no recursion), the document is refused
# before validation starts.
MAX_FIELDS_PER_SELECTION = 200
MAX_FIELDS_PER_DOCUMENT = 1000
# graphql-core's own meter of that rule (default 500,000 units, ~2 per comparison): a
# backstop for what the field counts let through (fragment spreads compared pairwise).
OVERLAP_COMPLEXITY_BUDGET = 50_000


def field_count_problem(document: DocumentNode) -> str | None:
    """Why ``document`` holds too many field nodes, or None. Inline fragments count with
    the selection set they are in (they are merged into it)."""
    total = 0
    pending: list[SelectionSetNode] = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while pending:
        selection_set = pending.pop()
        in_this_set = 0
        flat: list[SelectionSetNode] = [selection_set]
        while flat:
            for selection in flat.pop().selections:
                if isinstance(selection, FieldNode):
                    in_this_set += 1
                    if selection.selection_set is not None:
                        pending.append(selection.selection_set)
                elif isinstance(selection, InlineFragmentNode):
                    flat.append(selection.selection_set)
        if in_this_set > MAX_FIELDS_PER_SELECTION:
            return (
                f"A selection set asks for {in_this_set} fields, more than the allowed "
                f"{MAX_FIELDS_PER_SELECTION}: ask for each field once"
            )
        total += in_this_set
        if total > MAX_FIELDS_PER_DOCUMENT:
            return (
                f"The document asks for more than {MAX_FIELDS_PER_DOCUMENT} fields: "
                "split it into smaller queries"
            )
    return None
