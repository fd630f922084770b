"""TEDS codes (SAMHSA Treatment Episode Data Set), one class per element.

Codes are those of the SAMHSA public-use files, as in ../shared/docs/DOMAIN.md §8.1
(service type, reason for discharge, substances, route, frequency, referral source,
prior treatment, medication-assisted opioid therapy, days waiting, self-help
attendance). The demographic elements DOMAIN.md lists without codes (sex, race,
ethnicity, marital status, education, employment, living arrangement, veteran,
pregnancy, arrests, psychiatric problem) use the public-use file's codes too ◐: a
state's own submission format can be more detailed, and the export maps from here.

Every class is an IntegerChoices, so a stored value is the TEDS code itself and the
export validates a value by asking whether it is one of the element's codes.
"""

from __future__ import annotations

from django.db import models


class Service(models.IntegerChoices):
    """SERVICES / SERVICES_D: type of treatment service (DOMAIN.md §8.1)."""

    DETOX_HOSPITAL = 1, "Detox, 24-hour hospital inpatient"
    DETOX_RESIDENTIAL = 2, "Detox, 24-hour free-standing residential"
    REHAB_HOSPITAL = 3, "Rehab/residential, hospital (non-detox)"
    REHAB_SHORT = 4, "Rehab/residential, short term (30 days or fewer)"
    REHAB_LONG = 5, "Rehab/residential, long term (more than 30 days)"
    INTENSIVE_OUTPATIENT = 6, "Ambulatory, intensive outpatient"
    OUTPATIENT = 7, "Ambulatory, non-intensive outpatient"
    AMBULATORY_DETOX = 8, "Ambulatory, detoxification"


class Reason(models.IntegerChoices):
    """REASON: reason for discharge (DOMAIN.md §8.1)."""

    COMPLETED = 1, "Treatment completed"
    DROPPED_OUT = 2, "Dropped out of treatment"
    TERMINATED = 3, "Terminated by facility"
    TRANSFERRED = 4, "Transferred to another treatment program or facility"
    INCARCERATED = 5, "Incarcerated"
    DEATH = 6, "Death"
    OTHER = 7, "Other"


class Substance(models.IntegerChoices):
    """SUB1–SUB3 and SUB1_D–SUB3_D (DOMAIN.md §8.1)."""

    NONE = 1, "None"
    ALCOHOL = 2, "Alcohol"
    COCAINE = 3, "Cocaine/crack"
    MARIJUANA = 4, "Marijuana/hashish"
    HEROIN = 5, "Heroin"
    NON_RX_METHADONE = 6, "Non-prescription methadone"
    OTHER_OPIATES = 7, "Other opiates and synthetics"
    PCP = 8, "PCP"
    HALLUCINOGENS = 9, "Hallucinogens"
    METHAMPHETAMINE = 10, "Methamphetamine/speed"
    OTHER_AMPHETAMINES = 11, "Other amphetamines"
    OTHER_STIMULANTS = 12, "Other stimulants"
    BENZODIAZEPINES = 13, "Benzodiazepines"
    OTHER_TRANQUILIZERS = 14, "Other tranquilizers"
    BARBITURATES = 15, "Barbiturates"
    OTHER_SEDATIVES = 16, "Other sedatives/hypnotics"
    INHALANTS = 17, "Inhalants"
    OTC = 18, "Over-the-counter medications"
    OTHER = 19, "Other drugs"


class Route(models.IntegerChoices):
    """ROUTE1–ROUTE3: usual route of administration (DOMAIN.md §8.1)."""

    ORAL = 1, "Oral"
    SMOKING = 2, "Smoking"
    INHALATION = 3, "Inhalation"
    INJECTION = 4, "Injection (IV, IM, intradermal, subcutaneous)"
    OTHER = 5, "Other"


class Frequency(models.IntegerChoices):
    """FREQ1–FREQ3 and FREQ1_D–FREQ3_D: use in the past 30 days (DOMAIN.md §8.1)."""

    NO_USE = 1, "No use in the past month"
    SOME_USE = 2, "Some use"
    DAILY = 3, "Daily use"


class ReferralSource(models.IntegerChoices):
    """PSOURCE (DOMAIN.md §8.1); participants.choices.TEDS_PSOURCE maps our sources."""

    SELF = 1, "Individual (includes self-referral)"
    AOD_PROVIDER = 2, "Alcohol/drug use care provider"
    HEALTH_PROVIDER = 3, "Other health care provider"
    SCHOOL = 4, "School (educational)"
    EMPLOYER = 5, "Employer/EAP"
    COMMUNITY = 6, "Other community referral"
    COURT = 7, "Court/criminal justice referral/DUI/DWI"


class PriorTreatment(models.IntegerChoices):
    """NOPRIOR: previous substance use treatment episodes (DOMAIN.md §8.1)."""

    NONE = 0, "No prior treatment episodes"
    ONE = 1, "1 prior episode"
    TWO = 2, "2 prior episodes"
    THREE = 3, "3 prior episodes"
    FOUR = 4, "4 prior episodes"
    FIVE_PLUS = 5, "5 or more prior episodes"


class YesNo(models.IntegerChoices):
    """METHUSE, VET, PREG, PSYPROB: 1 yes, 2 no (public-use file coding)."""

    YES = 1, "Yes"
    NO = 2, "No"


class DaysWaiting(models.IntegerChoices):
    """DAYWAIT: days waiting to enter treatment (DOMAIN.md §8.1)."""

    ZERO = 0, "0 days"
    ONE_TO_SEVEN = 1, "1–7 days"
    EIGHT_TO_14 = 2, "8–14 days"
    FIFTEEN_TO_30 = 3, "15–30 days"
    OVER_30 = 4, "31 or more days"


def days_waiting_code(days: int) -> int:
    """The DAYWAIT code for a wait of `days` days (DOMAIN.md §8.1 bands)."""
    if days < 0:
        raise ValueError("a wait cannot be negative")
    if days == 0:
        return DaysWaiting.ZERO
    if days <= 7:
        return DaysWaiting.ONE_TO_SEVEN
    if days <= 14:
        return DaysWaiting.EIGHT_TO_14
    if days <= 30:
        return DaysWaiting.FIFTEEN_TO_30
    return DaysWaiting.OVER_30


class SelfHelp(models.IntegerChoices):
    """FREQ_ATND_SELF_HELP (and _D): mutual-help attendance in the past 30 days
    (DOMAIN.md §8.1: none; 1–3, 4–7, 8–30 times; some, frequency unknown)."""

    NONE = 1, "No attendance"
    ONE_TO_THREE = 2, "1–3 times in the past month"
    FOUR_TO_SEVEN = 3, "4–7 times in the past month"
    EIGHT_TO_30 = 4, "8–30 times in the past month"
    SOME_UNKNOWN = 5, "Some attendance, frequency unknown"


class Sex(models.IntegerChoices):
    """GENDER (public-use file ◐)."""

    MALE = 1, "Male"
    FEMALE = 2, "Female"


class Race(models.IntegerChoices):
    """RACE (public-use file ◐)."""

    ALASKA_NATIVE = 1, "Alaska Native (Aleut, Eskimo, Indian)"
    AMERICAN_INDIAN = 2, "American Indian (other than Alaska Native)"
    ASIAN_PACIFIC = 3, "Asian or Pacific Islander"
    BLACK = 4, "Black or African American"
    WHITE = 5, "White"
    ASIAN = 6, "Asian"
    OTHER_SINGLE = 7, "Other single race"
    TWO_OR_MORE = 8, "Two or more races"
    NATIVE_HAWAIIAN = 9, "Native Hawaiian or Other Pacific Islander"


class Ethnicity(models.IntegerChoices):
    """ETHNIC (public-use file ◐)."""

    PUERTO_RICAN = 1, "Puerto Rican"
    MEXICAN = 2, "Mexican"
    CUBAN_OTHER = 3, "Cuban or other specific Hispanic"
    NOT_HISPANIC = 4, "Not of Hispanic or Latino origin"
    HISPANIC_UNSPECIFIED = 5, "Hispanic or Latino, specific origin not specified"


class MaritalStatus(models.IntegerChoices):
    """MARSTAT (public-use file ◐)."""

    NEVER_MARRIED = 1, "Never married"
    MARRIED = 2, "Now married"
    SEPARATED = 3, "Separated"
    DIVORCED_WIDOWED = 4, "Divorced, widowed"


class Education(models.IntegerChoices):
    """EDUC (public-use file, 2015 onwards ◐)."""

    GRADE_8_OR_LESS = 1, "Grade 8 or less (incl. no schooling)"
    GRADES_9_11 = 2, "Grades 9–11"
    GRADE_12 = 3, "Grade 12 (or GED)"
    SOME_COLLEGE = 4, "1–3 years of college, university or vocational school"
    COLLEGE = 5, "4 years of college or more"


class Employment(models.IntegerChoices):
    """EMPLOY and EMPLOY_D (public-use file ◐)."""

    FULL_TIME = 1, "Full-time"
    PART_TIME = 2, "Part-time"
    UNEMPLOYED = 3, "Unemployed"
    NOT_IN_LABOR_FORCE = 4, "Not in labor force"


class Living(models.IntegerChoices):
    """LIVARAG and LIVARAG_D (DOMAIN.md §8.1: homeless, dependent, independent)."""

    HOMELESS = 1, "Homeless"
    DEPENDENT = 2, "Dependent living"
    INDEPENDENT = 3, "Independent living"


class Arrests(models.IntegerChoices):
    """ARRESTS and ARRESTS_D: arrests in the past 30 days (public-use file ◐)."""

    NONE = 0, "None"
    ONCE = 1, "Once"
    TWO_OR_MORE = 2, "Two or more times"


# Levels of care → SERVICES (DOMAIN.md §1 and §8.1): ASAM 2.1 and 2.5 (3rd ed.) / 2.1–2.7
# (4th ed.) are intensive outpatient or partial hospitalisation, which TEDS counts as
# ambulatory intensive outpatient (6); levels 1.x are non-intensive outpatient (7);
# residential and inpatient levels are 3–5 (residential rehab; the short/long split is
# the planned stay, so 3.x maps to short term unless the receiving program says more).
SERVICE_FOR_LEVEL: dict[str, int] = {
    "3:0.5": Service.OUTPATIENT,
    "3:1": Service.OUTPATIENT,
    "3:2.1": Service.INTENSIVE_OUTPATIENT,
    "3:2.5": Service.INTENSIVE_OUTPATIENT,
    "3:3.1": Service.REHAB_LONG,
    "3:3.3": Service.REHAB_SHORT,
    "3:3.5": Service.REHAB_SHORT,
    "3:3.7": Service.REHAB_SHORT,
    "3:4": Service.REHAB_HOSPITAL,
    "4:1.0": Service.OUTPATIENT,
    "4:1.5": Service.OUTPATIENT,
    "4:1.7": Service.OUTPATIENT,
    "4:2.1": Service.INTENSIVE_OUTPATIENT,
    "4:2.5": Service.INTENSIVE_OUTPATIENT,
    "4:2.7": Service.INTENSIVE_OUTPATIENT,
    "4:3.1": Service.REHAB_LONG,
    "4:3.5": Service.REHAB_SHORT,
    "4:3.7": Service.REHAB_SHORT,
    "4:4.0": Service.REHAB_HOSPITAL,
}
