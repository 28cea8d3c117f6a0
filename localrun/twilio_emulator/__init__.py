"""The local Twilio emulator: Twilio's Messages API for tests and offline runs (see ``emulator``)."""

from localrun.twilio_emulator.emulator import EMULATOR_KEY, TwilioEmulator, create_app, main
from localrun.twilio_emulator.faults import EmulatorStats, FaultPlan
