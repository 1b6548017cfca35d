"""Failures seen, told and retried: a workflow that fails, times out or is stopped marks its
request `failed` with the step and the error and mails the team leads once (`failures`); the team
restarts it from the last safe point (`retry`); a sweeper finds requests whose workflow ended
without a word, or that made no progress for longer than their wait allows (`sweep`)."""
