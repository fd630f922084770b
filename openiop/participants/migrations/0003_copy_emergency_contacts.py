"""Copy each participant's emergency contact (three fields on the participant) into a
Contact marked as the emergency contact. The fields stay where they are; the copy is
what the contacts page, relapse-prevention plans and (later) the family portal use."""

from django.db import migrations
from django.db.models import Q

MARK = "Copied from the emergency contact on the participant's details."

# Free-text relationships as typed at registration → the contact's choices.
WORDS = {
    "partner": ("spouse", "partner", "husband", "wife", "fiance", "fiancé", "girlfriend",
                "boyfriend"),
    "parent": ("mother", "father", "mom", "dad", "parent", "stepmother", "stepfather"),
    "child": ("son", "daughter", "child"),
    "sibling": ("sister", "brother", "sibling"),
    "other_family": ("aunt", "uncle", "cousin", "grandmother", "grandfather", "grandparent",
                     "niece", "nephew", "family"),
    "friend": ("friend", "roommate", "neighbor", "neighbour"),
    "sponsor": ("sponsor",),
    "peer": ("peer", "mentor"),
    "employer": ("employer", "boss", "supervisor"),
    "professional": ("doctor", "counselor", "counsellor", "therapist", "case manager",
                     "caseworker", "lawyer", "probation"),
}


def relationship_of(text):
    words = (text or "").strip().lower()
    for code, names in WORDS.items():
        if any(name in words for name in names):
            return code
    return "other"


def copy(apps, schema_editor):
    Participant = apps.get_model("participants", "Participant")
    Contact = apps.get_model("participants", "Contact")
    people = Participant.objects.exclude(emergency_contact_name="").filter(
        ~Q(emergency_contact_name__regex=r"^\s*$")
    )
    rows = []
    for p in people.iterator():
        relationship = relationship_of(p.emergency_contact_relationship)
        note = MARK
        if relationship == "other" and p.emergency_contact_relationship.strip():
            note = f"{MARK} Relationship as recorded: {p.emergency_contact_relationship.strip()}."
        rows.append(
            Contact(
                participant_id=p.pk,
                name=p.emergency_contact_name.strip()[:120],
                relationship=relationship,
                phone=p.emergency_contact_phone.strip()[:30],
                is_emergency=True,
                notes=note[:1000],
                created_by_id=p.updated_by_id,
                updated_by_id=p.updated_by_id,
            )
        )
    Contact.objects.bulk_create(rows, batch_size=500)


def uncopy(apps, schema_editor):
    Contact = apps.get_model("participants", "Contact")
    Contact.objects.filter(notes__startswith=MARK, version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("participants", "0002_contact")]

    operations = [migrations.RunPython(copy, uncopy)]
