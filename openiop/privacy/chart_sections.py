"""The chart's privacy section (consents, disclosures, amendments) — filled in below."""

# --- H5 amendments: the participant's amendment requests (HIPAA §164.526) ---
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section

from .amendment_panels import chart_context as amendments_context
from .registry import chart_context as consents_context

register_section(
    Section(
        "amendments",
        "Amendments",
        # Read with clinical.view or consent.view: the context hides it from others.
        Perm.PARTICIPANT_VIEW,
        "privacy/amendments/chart_section.html",
        amendments_context,
        order=85,
    )
)


# --- H6 consents: the consents in force (42 CFR §2.31), one query ---
register_section(
    Section(
        "consents",
        "Consents",
        Perm.CONSENT_VIEW,
        "privacy/consents/chart_section.html",
        consents_context,
        order=23,
    )
)
