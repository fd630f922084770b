"""The words a consent form says to the participant (42 CFR §2.31, 2024 text; DOMAIN.md
§2.3). The recording form shows them beside the boxes the counsellor ticks, and the
printed consent (recorded or blank) carries them, so what was signed is what was shown.
"""

from __future__ import annotations

from typing import Any

# Element 6 (§2.31(a)(6)): the right to revoke in writing, except where someone has
# already acted in reliance on the consent, and how to revoke.
REVOCATION_RIGHT = (
    "You may revoke this consent at any time, in writing, except to the extent that "
    "{program} or a recipient has already acted in reliance on it. To revoke it, give or "
    "send a signed and dated note saying so to {program}{address}, or tell your counsellor, "
    "who will ask you to sign one. A revocation takes effect as soon as the program "
    "records it."
)

# TPO extra (a) (§2.31(a), 2024 text; DOMAIN.md §2.3 "TPO extras"): the consequences of
# refusing to sign.
TPO_REFUSAL = (
    "Your treatment at {program} does not depend on signing this consent. If you do not "
    "sign it, {program} will not share your records with your other treating providers "
    "or your health plan for treatment, payment and health care operations: your health "
    "plan may not pay for your care here, and your other providers will not hear from us "
    "to coordinate your care."
)

# TPO extra (b): records disclosed under a TPO consent may be redisclosed by the recipient
# and may then no longer be protected by Part 2 — but never used in proceedings against
# the patient (§2.31(a), §2.12(d); DOMAIN.md §2.3 element 4 and "TPO extras", §2.8).
TPO_REDISCLOSURE = (
    "Records disclosed under this consent to a health care provider, health plan or their "
    "business associates may be redisclosed by them as the HIPAA rules permit, and may "
    "then no longer be protected by 42 CFR part 2. They may never be used or disclosed in "
    "civil, criminal, administrative or legislative proceedings against you without your "
    "written consent or a court order."
)

# §2.31(b): SUD counselling notes need their own consent, combined with no other.
COUNSELLING_NOTES = (
    "This consent covers only the SUD counselling notes named above. It cannot be "
    "combined with a consent for any other information or purpose."
)


def texts(program: Any) -> dict[str, str]:
    """The statements with the program's name (and its site's address, for revoking)."""
    site = getattr(program, "site", None)
    address = getattr(site, "address", "") if site is not None else ""
    values = {"program": program.name, "address": f", {address}" if address else ""}
    return {
        "revocation_right": REVOCATION_RIGHT.format(**values),
        "tpo_refusal": TPO_REFUSAL.format(**values),
        "tpo_redisclosure": TPO_REDISCLOSURE.format(**values),
        "counselling_notes": COUNSELLING_NOTES,
    }
