"""`platform-tools exam-period`: archive a finished exam period (a verified, self-contained copy,
then the period frozen), verify and browse archives without the database, and open the next
period set up like the archived one."""
