"""Choices of the drug-screening area (DOMAIN.md §5)."""

from __future__ import annotations

from django.db import models


class SpecimenType(models.TextChoices):
    # DOMAIN.md §5.1: the matrices a program collects itself.
    URINE = "urine", "Urine"
    ORAL_FLUID = "oral_fluid", "Oral fluid"
    BREATH = "breath", "Breath (alcohol)"
    HAIR = "hair", "Hair"
    BLOOD = "blood", "Blood"


class TestMethod(models.TextChoices):
    # DOMAIN.md §5.3/§5.4: a cup read by eye (80305), instrument-read (80306/80307),
    # a breathalyser, or a laboratory's definitive test (GC-MS, LC-MS/MS).
    CUP = "cup", "Point-of-care cup or dipstick (presumptive)"
    ANALYZER = "analyzer", "Instrumented immunoassay (presumptive)"
    BREATHALYZER = "breath", "Breathalyser"
    LAB = "lab", "Send-out laboratory"


class ResultMethod(models.TextChoices):
    PRESUMPTIVE = "presumptive", "Presumptive"
    DEFINITIVE = "definitive", "Definitive"


class ResultOutcome(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class Interpretation(models.TextChoices):
    """What a result means for the participant, worked out when it is recorded."""

    NEGATIVE = "negative", "Negative"
    EXPECTED = "expected", "Expected (prescribed medication)"
    UNEXPECTED = "unexpected", "Unexpected positive"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class ResultSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    CSV = "csv", "Lab CSV"
    HL7 = "hl7", "HL7 v2 ORU^R01"


class OrderReason(models.TextChoices):
    RANDOM = "random", "Random selection"
    ADMISSION = "admission", "At admission"
    SCHEDULED = "scheduled", "Scheduled"
    FOR_CAUSE = "for_cause", "For cause"


class OrderStatus(models.TextChoices):
    OPEN = "open", "To collect"
    COLLECTED = "collected", "Collected"
    REFUSED = "refused", "Refused"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"


CLOSED_ORDER = frozenset({OrderStatus.COLLECTED, OrderStatus.REFUSED, OrderStatus.NO_SHOW})


class Validity(models.TextChoices):
    """Specimen validity (DOMAIN.md §5.1: temperature, creatinine, specific gravity, pH,
    oxidants)."""

    VALID = "valid", "Valid"
    DILUTE = "dilute", "Dilute"
    ADULTERATED = "adulterated", "Adulterated"
    SUBSTITUTED = "substituted", "Substituted"
    INVALID = "invalid", "Invalid (other)"


class CustodyStep(models.TextChoices):
    # DOMAIN.md §5.5: an append-only event list per specimen.
    COLLECTED = "collected", "Collected"
    SEALED = "sealed", "Sealed in the donor's sight"
    SENT = "sent", "Released to courier / sent to the lab"
    RECEIVED = "received", "Received by the lab"
    SEAL_BROKEN = "seal_broken", "Received with the seal broken"
    RESULTED = "resulted", "Resulted"
    DISPOSED = "disposed", "Disposed"


class Handling(models.TextChoices):
    """How the program responds to an unexpected result (issue 7, point 2)."""

    SUPPORTIVE = "supportive", "Supportive: the counsellor reviews the care plan"
    STRICT = "strict", "Strict: the counsellor reviews and the director is told"


class CountsAs(models.TextChoices):
    """How a refusal, a no-show or a dilute or adulterated specimen counts."""

    POSITIVE = "positive", "Counts as a positive (review, breaks the negative rate)"
    MISSED = "missed", "Counts as a missed test (review, not in the negative rate)"
    RETEST = "retest", "Order a retest (no review)"


class ReviewReason(models.TextChoices):
    UNEXPECTED_POSITIVE = "positive", "Unexpected positive"
    REFUSAL = "refusal", "Refused to test"
    NO_SHOW = "no_show", "Did not come to test"
    INVALID_SPECIMEN = "invalid", "Dilute, adulterated or invalid specimen"


class ReviewOutcome(models.TextChoices):
    """What the clinician concluded. Use resets the days since last known use;
    expected and invalid do not (issue 7, point 8)."""

    USE = "use", "Use confirmed or acknowledged"
    EXPECTED = "expected", "Explained (prescribed medication or known cause)"
    INVALID = "invalid", "Result invalid (false positive, lab error)"
    DISPUTED = "disputed", "Disputed: sent for definitive confirmation"
    NOTED = "noted", "Noted (refusal, no-show or invalid specimen discussed)"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "To review"
    DONE = "done", "Reviewed"


class SubstanceClass(models.TextChoices):
    """For positivity by substance (issue 7, point 9)."""

    ALCOHOL = "alcohol", "Alcohol"
    CANNABIS = "cannabis", "Cannabis"
    COCAINE = "cocaine", "Cocaine"
    OPIOIDS = "opioids", "Opioids"
    FENTANYL = "fentanyl", "Fentanyl"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    METHADONE = "methadone", "Methadone"
    STIMULANTS = "stimulants", "Amphetamines"
    MDMA = "mdma", "MDMA"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    BARBITURATES = "barbiturates", "Barbiturates"
    PCP = "pcp", "Phencyclidine"
    OTHER = "other", "Other"
