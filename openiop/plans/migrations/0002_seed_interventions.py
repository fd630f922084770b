"""The starting intervention library: four or five per modality, written for OpenIOP.
Programs retire, add or reword entries; this only seeds a new installation."""

from django.db import migrations

LIBRARY = {
    "cbt": [
        (
            "Thought records",
            "Write down a situation, the automatic thought, the feeling it brought, and a more "
            "balanced thought; review the record with the counsellor.",
        ),
        (
            "Trigger and craving mapping",
            "List people, places, moods and times linked to use; plan a response for each "
            "high-risk situation.",
        ),
        (
            "Behavioural activation",
            "Schedule pleasant and meaningful activities each week and track mood before "
            "and after them.",
        ),
        (
            "Problem-solving practice",
            "Break a current problem into steps: define it, list options, weigh them, try "
            "one, review what happened.",
        ),
        (
            "Drink and drug refusal rehearsal",
            "Role-play saying no to offers, in group or one to one, until the words come "
            "easily.",
        ),
    ],
    "dbt": [
        (
            "Distress tolerance skills",
            "Learn and practise skills for getting through a crisis without making it worse "
            "(for example self-soothing, distraction, paced breathing).",
        ),
        (
            "Emotion regulation skills",
            "Name emotions, notice what drives them, and practise acting opposite to an "
            "unhelpful urge.",
        ),
        (
            "Mindfulness practice",
            "Short daily exercises in observing and describing the present moment without "
            "judging it.",
        ),
        (
            "Interpersonal effectiveness",
            "Practise asking for what one needs and saying no while keeping relationships "
            "and self-respect.",
        ),
        (
            "Chain analysis",
            "Trace a lapse or problem behaviour link by link to find where a skill could "
            "have changed the outcome.",
        ),
    ],
    "mi": [
        (
            "Exploring ambivalence",
            "Talk through the good and the less good of using and of changing, drawing out "
            "the person's own reasons.",
        ),
        (
            "Readiness ruler",
            "Rate importance of and confidence in a change on a 0-10 scale and discuss what "
            "would move the number up.",
        ),
        (
            "Values clarification",
            "Identify what matters most to the person and how use fits or conflicts with it.",
        ),
        (
            "Change plan worksheet",
            "Write down the changes wanted, the reasons, the steps, who can help and how "
            "progress will be noticed.",
        ),
    ],
    "family": [
        (
            "Family education session",
            "Meet with family members to explain substance use disorders, treatment and how "
            "they can support recovery.",
        ),
        (
            "Family communication sessions",
            "Joint sessions to practise listening and speaking without blame, and to agree "
            "on household expectations.",
        ),
        (
            "Support person involvement",
            "Invite a chosen support person to take part in planning and reviewing progress.",
        ),
        (
            "Referral to a family support group",
            "Connect family members with a peer support group of their own.",
        ),
    ],
    "trauma": [
        (
            "Safety and stabilisation",
            "Build a personal safety plan and grounding skills before any work on trauma "
            "memories.",
        ),
        (
            "Trauma and substance use education",
            "Learn how trauma reactions and substance use affect each other, at the "
            "person's pace.",
        ),
        (
            "Grounding skills practice",
            "Practise using the senses and the body to come back to the present when "
            "overwhelmed.",
        ),
        (
            "Referral for trauma-focused therapy",
            "Coordinate with a specialist for trauma-focused treatment when the person is "
            "ready.",
        ),
    ],
    "psychoeducation": [
        (
            "Addiction and the brain",
            "Group teaching on how substances change the brain and why recovery takes time.",
        ),
        (
            "Relapse warning signs",
            "Learn the early emotional, mental and behavioural signs that come before a "
            "return to use.",
        ),
        (
            "Medication for addiction treatment information",
            "Information on medications that treat substance use disorders, their benefits "
            "and how to access them.",
        ),
        (
            "Health and harm reduction",
            "Information on overdose risk, naloxone, infections and looking after physical "
            "health.",
        ),
    ],
    "holistic": [
        (
            "Mindful movement",
            "Gentle exercise such as walking or stretching, with attention to the body and "
            "breath.",
        ),
        (
            "Sleep routine",
            "Set a regular sleep schedule and wind-down routine and keep a simple sleep log.",
        ),
        (
            "Nutrition and daily structure",
            "Plan regular meals and a daily routine that supports steady energy and mood.",
        ),
        (
            "Creative expression",
            "Art, music or writing activities to express feelings without words or with new "
            "ones.",
        ),
        (
            "Mutual-help meeting attendance",
            "Attend community recovery meetings of the person's choice and talk about them "
            "in sessions.",
        ),
    ],
}


def seed(apps, schema_editor):
    InterventionTemplate = apps.get_model("plans", "InterventionTemplate")
    for modality, items in LIBRARY.items():
        for name, description in items:
            InterventionTemplate.objects.get_or_create(
                modality=modality, name=name, defaults={"description": description}
            )


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
