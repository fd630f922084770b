"""Resource providers: how each FHIR resource type is read from the database.

A provider (one per resource type) has one or more *sources*, one per table behind the
type (Observation comes from check-ins, drug-screen results and instrument totals).
A source says how to scope its rows to a program and a participant, which fields the
common search parameters use, which consent category its data falls in, and how a row
becomes a resource. The framework (`api.py`) does authentication, scopes, search,
paging, labels, the consent gate, disclosures and the audit for every type alike.

To add a type: write a module in `resources/`, subclass `Source`, and call
`register(Provider("Type", [MySource()]))`; import the module in `resources/__init__.py`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Q, QuerySet

if TYPE_CHECKING:
    from .api import ApiContext

# A search parameter of one type: (queryset, values as given, context) → queryset.
ParamFilter = Callable[[QuerySet[Any], list[str], "ApiContext"], QuerySet[Any]]


class Source:
    """One table behind a resource type. Override what differs."""

    model: type[Model]
    # Path from a row to its participant ("" when the row *is* the participant).
    participant_path: str = "participant"
    # The consent category (privacy.choices.InfoCategory) an outside client's consent
    # must cover for this data to go out.
    category: str = "enrolment"
    # Fields the common parameters search: `date` (None: the type has no date), kind
    # "date" (a DateField: whole program days) or "datetime".
    date_field: str | None = None
    date_kind: str = "datetime"
    updated_field: str = "updated_at"
    # FHIR id = prefix + the row's uuid (prefixes keep ids of several sources apart).
    id_prefix: str = ""
    id_field: str = "uuid"
    # status code → filter; None: `status` is not a parameter of this source's type.
    status_filters: dict[str, Q] | None = None
    # Parameters of this type only (name → filter).
    extra_params: dict[str, ParamFilter] = {}

    # --- what a subclass writes ----------------------------------------------------------
    def queryset(self) -> QuerySet[Any]:
        """Every row that is a resource (voided rows left out), with what `to_resource`
        needs selected or prefetched, so a page costs the same queries for any size."""
        return self.model._default_manager.filter(voided=False)

    def to_resource(self, obj: Any, ctx: ApiContext) -> dict[str, Any]:
        raise NotImplementedError

    # --- what the framework uses ---------------------------------------------------------
    def fhir_id(self, obj: Any) -> str:
        return f"{self.id_prefix}{getattr(obj, self.id_field)}"

    def id_q(self, ids: list[str]) -> Q | None:
        """Rows with these FHIR ids (None: none of them can be of this source)."""
        keys: list[Any] = []
        for value in ids:
            if self.id_prefix and not value.startswith(self.id_prefix):
                continue
            raw = value[len(self.id_prefix) :]
            if self.id_field == "uuid":
                try:
                    keys.append(uuid.UUID(raw))
                except ValueError:
                    continue
            else:
                keys.append(raw)
        return Q(**{f"{self.id_field}__in": keys}) if keys else None

    def _path(self, rest: str) -> str:
        return f"{self.participant_path}__{rest}" if self.participant_path else rest

    def program_q(self, program_ids: list[int]) -> Q:
        return Q(**{self._path("program_id__in"): program_ids})

    def participant_pk_q(self, pks: Any) -> Q:
        return Q(**{self._path("id__in"): pks})

    def participant_uuid_q(self, uuids: list[uuid.UUID]) -> Q:
        return Q(**{self._path("uuid__in"): uuids})

    def participant_id_of(self, obj: Any) -> int:
        if not self.participant_path:
            return int(obj.pk)
        target = obj
        for part in self.participant_path.split("__"):
            target = getattr(target, part)
        return int(target.pk)

    def last_updated(self, obj: Any) -> dt.datetime | None:
        return getattr(obj, self.updated_field, None) if self.updated_field else None


@dataclass
class Provider:
    resource_type: str
    sources: list[Source]
    # Shown in the CapabilityStatement.
    documentation: str = ""
    profile: str = ""
    # False: not in a patient compartment (AuditEvent): never for patient/ scopes.
    in_patient_compartment: bool = True
    params_doc: dict[str, str] = field(default_factory=dict)
    # True: only the program's own (internal) clients may read it (AuditEvent, for
    # compliance systems); an outside client gets 403.
    internal_only: bool = False

    @property
    def has_date(self) -> bool:
        return any(s.date_field for s in self.sources)

    @property
    def has_status(self) -> bool:
        return any(s.status_filters is not None for s in self.sources)

    @property
    def has_patient(self) -> bool:
        return self.resource_type != "Patient" and self.in_patient_compartment

    def extra_param_names(self) -> set[str]:
        return {name for s in self.sources for name in s.extra_params}


REGISTRY: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    REGISTRY[provider.resource_type] = provider
    return provider


def known_types() -> frozenset[str]:
    return frozenset(REGISTRY)
