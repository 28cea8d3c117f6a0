"""Care campaigns (greetings, monthly usage SMS, compensation notices) on APScheduler."""
