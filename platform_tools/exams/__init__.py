"""`platform-tools exams`: exam-period operations (batch documents)."""
