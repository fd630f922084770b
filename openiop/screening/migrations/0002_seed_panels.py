"""Seed common analytes and panels. Cut-offs are data, per device or lab (DOMAIN.md §5.2);
programs edit them to match the cups and laboratory they use.

Sources for the numbers:
* urine cup and send-out confirmation: the HHS urine panel of July 7, 2025 (DOMAIN.md §5.2)
  where the analyte is on it (THC 50/15, cocaine BZE 150/100, opiates 2000, oxycodone 100,
  6-AM 10, PCP 25, fentanyl 1, amphetamine/methamphetamine 500/250, MDMA 500/250);
* clinical additions (benzodiazepines, buprenorphine, methadone/EDDP, barbiturates,
  tramadol, EtG/EtS) are set by the device or lab (§5.2 ◐): the values here are common
  cup and laboratory cut-offs and are meant to be checked against the package insert;
* oral fluid: DOT cut-offs, 49 CFR 40.91 (§5.2);
* breath alcohol: 0.02 g/210 L, the usual screening threshold.
"""

from decimal import Decimal

from django.db import migrations

ANALYTES = [
    # code, name, substance class, LOINC (blank where none was checked)
    ("AMP", "Amphetamine", "stimulants", ""),
    ("MET", "Methamphetamine", "stimulants", ""),
    ("MDMA", "MDMA (ecstasy)", "mdma", ""),
    ("BAR", "Barbiturates", "barbiturates", ""),
    ("BZO", "Benzodiazepines", "benzodiazepines", ""),
    ("BUP", "Buprenorphine", "buprenorphine", ""),
    ("NORBUP", "Norbuprenorphine", "buprenorphine", ""),
    ("MTD", "Methadone", "methadone", ""),
    ("EDDP", "EDDP (methadone metabolite)", "methadone", ""),
    ("COC", "Cocaine (benzoylecgonine)", "cocaine", ""),
    ("OPI", "Opiates (morphine, codeine)", "opioids", ""),
    ("6AM", "6-Acetylmorphine (heroin)", "opioids", ""),
    ("OXY", "Oxycodone", "opioids", ""),
    ("TRA", "Tramadol", "opioids", ""),
    ("FEN", "Fentanyl", "fentanyl", ""),
    ("NORFEN", "Norfentanyl", "fentanyl", ""),
    ("PCP", "Phencyclidine", "pcp", ""),
    ("THC", "Cannabinoids (THC-COOH)", "cannabis", ""),
    ("ETG", "Ethyl glucuronide (EtG)", "alcohol", ""),
    ("ETS", "Ethyl sulfate (EtS)", "alcohol", ""),
    ("ETOH", "Breath alcohol", "alcohol", ""),
]

PANELS = [
    (
        "12-panel urine cup",
        "urine",
        "cup",
        "80305",
        "Point-of-care cup read by eye; confirm unexpected results (§5.3).",
        [
            ("AMP", "500", "ng/mL", "250"),
            ("MET", "500", "ng/mL", "250"),
            ("BAR", "300", "ng/mL", None),
            ("BZO", "300", "ng/mL", None),
            ("BUP", "10", "ng/mL", None),
            ("MTD", "300", "ng/mL", None),
            ("COC", "150", "ng/mL", "100"),
            ("OPI", "2000", "ng/mL", "2000"),
            ("OXY", "100", "ng/mL", "100"),
            ("FEN", "1", "ng/mL", "1"),
            ("PCP", "25", "ng/mL", "25"),
            ("THC", "50", "ng/mL", "15"),
        ],
    ),
    (
        "EtG urine (send-out)",
        "urine",
        "lab",
        "",
        "Alcohol biomarkers by LC-MS/MS; detects drinking over the last few days.",
        [("ETG", "500", "ng/mL", "500"), ("ETS", "100", "ng/mL", "100")],
    ),
    (
        "Breath alcohol",
        "breath",
        "breath",
        "",
        "Evidential or screening breathalyser; current alcohol only.",
        [("ETOH", "0.02", "g/210L", None)],
    ),
    (
        "Oral fluid 6-panel",
        "oral_fluid",
        "cup",
        "80305",
        "Observed collection; DOT cut-offs, 49 CFR 40.91.",
        [
            ("THC", "4", "ng/mL", "2"),
            ("COC", "15", "ng/mL", "8"),
            ("OPI", "30", "ng/mL", "15"),
            ("AMP", "50", "ng/mL", "25"),
            ("MET", "50", "ng/mL", "25"),
            ("PCP", "10", "ng/mL", "10"),
        ],
    ),
    (
        "Definitive confirmation (send-out)",
        "urine",
        "lab",
        "",
        "LC-MS/MS confirmation of unexpected or disputed results (§5.3).",
        [
            ("FEN", "1", "ng/mL", "1"),
            ("NORFEN", "1", "ng/mL", "1"),
            ("BUP", "5", "ng/mL", "5"),
            ("NORBUP", "5", "ng/mL", "5"),
            ("EDDP", "100", "ng/mL", "100"),
            ("6AM", "10", "ng/mL", "10"),
            ("OPI", "2000", "ng/mL", "2000"),
            ("OXY", "100", "ng/mL", "100"),
            ("TRA", "100", "ng/mL", "100"),
            ("COC", "100", "ng/mL", "100"),
            ("AMP", "250", "ng/mL", "250"),
            ("MET", "250", "ng/mL", "250"),
            ("THC", "15", "ng/mL", "15"),
            ("BZO", "100", "ng/mL", "100"),
        ],
    ),
]


def seed(apps, schema_editor):
    Analyte = apps.get_model("screening", "Analyte")
    Panel = apps.get_model("screening", "Panel")
    PanelAnalyte = apps.get_model("screening", "PanelAnalyte")
    by_code = {}
    for code, name, substance, loinc in ANALYTES:
        by_code[code], _ = Analyte.objects.get_or_create(
            code=code, defaults={"name": name, "substance": substance, "loinc": loinc}
        )
    for name, specimen, method, cpt, description, lines in PANELS:
        panel, created = Panel.objects.get_or_create(
            name=name,
            defaults={
                "specimen_type": specimen,
                "method": method,
                "cpt_code": cpt,
                "description": description,
            },
        )
        if not created:
            continue
        for position, (code, cutoff, unit, confirm) in enumerate(lines):
            PanelAnalyte.objects.create(
                panel=panel,
                analyte=by_code[code],
                cutoff=Decimal(cutoff),
                unit=unit,
                confirm_cutoff=Decimal(confirm) if confirm else None,
                position=position,
            )


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
