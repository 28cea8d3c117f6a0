from localrun.twilio_emulator.emulator import main

main()
