"""Running the whole product on one machine: the embedded mongod, the Twilio emulator, demo data, and
the supervisor behind ``make run``. Nothing here is needed where MongoDB and Twilio are real."""
