"""Year and curriculum rollover: carry a school's set-up into the next year or curriculum."""
