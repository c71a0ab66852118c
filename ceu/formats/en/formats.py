# Every page prints a day as "Nov 28, 2026": `|date` with no argument, and a date rendered bare,
# use it. Django's own English default ("Nov. 28, 2026") differs only by the full stop. Forms,
# <time datetime>, PDFs, e-mails and exports keep their own explicit formats.
DATE_FORMAT = "M j, Y"
