"""The county's reports (通报): the standard tables per handling unit, graded."""
