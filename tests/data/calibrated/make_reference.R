# make_reference.R - the calibration-aware reference of a fixture folder.
#
# Usage: Rscript make_reference.R FIXTURE_DIR FORM_JSON OUT.csv
#
# Writes, in the layout of the fixtures' ref_calibrated.csv, est and se of
# every criterion, `overall`, element and the index for the whole quarter
# 2026Q3, every agency and every sector, after
#   calibrate(design, ~agency + gender, population, calfun = "raking",
#             epsilon = 1e-13)
# on svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE)
# with survey.lonely.psu "adjust".  A group is a subset() of the calibrated
# design (domain estimation, as svyby does), so every PSU of the quarter
# contributes to its variance through the calibration residuals.
# Criteria and `overall` are svyratio(satisfied, answered) on the subset;
# elements (the mean of their criteria) and the index (the mean of the
# elements weighted by the form's element weights) are contrasts of the
# jointly estimated ratios, taken by the delta method on the joint totals.
# The criterion ratios are computed both ways and must agree.
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")

args <- commandArgs(TRUE)
if (length(args) != 3)
	stop("usage: Rscript make_reference.R FIXTURE_DIR FORM_JSON OUT.csv")
dir <- args[1]; form_path <- args[2]; out <- args[3]

d <- read.csv(file.path(dir, "responses.csv"), stringsAsFactors = FALSE, check.names = FALSE)
d <- d[d$submitted_at >= "2026-07-01" & d$submitted_at <= "2026-09-30", ]
m <- read.csv(file.path(dir, "margins.csv"), stringsAsFactors = FALSE)
ag <- m[m$variable == "agency", ]; ge <- m[m$variable == "gender", ]
stopifnot(nrow(ag) + nrow(ge) == nrow(m), !anyNA(match(d$agency, ag$level)),
	  !anyNA(match(d$gender, ge$level)))
d$agency_f <- factor(d$agency, levels = ag$level)
d$gender_f <- factor(d$gender, levels = ge$level)

# The form's elements and their weights.  No JSON package is assumed: the
# form file writes each element as {"id": "eK", "weight": W, ...}; each
# criterion column eK.J belongs to element eK.
form <- paste(readLines(form_path, warn = FALSE), collapse = "\n")
hits <- regmatches(form, gregexpr('"id": *"e[0-9]+", *"weight": *[0-9.]+', form))[[1]]
elements <- sub('.*"(e[0-9]+)".*', "\\1", hits)
ew <- as.numeric(sub('.*: *([0-9.]+)$', "\\1", hits))
criteria <- grep("^e[0-9]+\\.[0-9]+$", names(d), value = TRUE)
of <- sub("\\..*", "", criteria)
stopifnot(length(elements) > 0, setequal(unique(of), elements))
items <- c(criteria, "overall")

# s_k: satisfied (4 or 5), a_k: answered; an unanswered item counts in neither.
key <- function(id) gsub("[^A-Za-z0-9]", "_", id)
for (id in items) {
	v <- d[[id]]
	d[[paste0("s_", key(id))]] <- ifelse(is.na(v), 0, as.numeric(v %in% c(4, 5)))
	d[[paste0("a_", key(id))]] <- as.numeric(!is.na(v))
}

des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d)
pop <- c("(Intercept)" = sum(ag$total),
	 setNames(ag$total[-1], paste0("agency_f", ag$level[-1])),
	 setNames(ge$total[-1], paste0("gender_f", ge$level[-1])))
cal <- calibrate(des, ~agency_f + gender_f, pop, calfun = "raking", epsilon = 1e-13)

# Nonlinear contrasts on the joint totals: each criterion's ratio, each
# element's mean of ratios, and the weighted mean of the elements.
ratio_expr <- function(id) sprintf("s_%s/a_%s", key(id), key(id))
elem_expr <- sapply(elements, function(e)
	sprintf("(%s)/%d", paste(sapply(criteria[of == e], ratio_expr), collapse = " + "),
		sum(of == e)))
index_expr <- sprintf("(%s)/%.17g", paste(sprintf("%.17g*(%s)", ew, elem_expr), collapse = " + "),
		      sum(ew))
contrasts <- lapply(c(sapply(items, ratio_expr), elem_expr, index_expr), str2lang)
names(contrasts) <- c(items, elements, "index")
totals <- as.formula(paste("~", paste(c(paste0("s_", key(items)), paste0("a_", key(items))),
				      collapse = " + ")))

estimate <- function(agency, sector, mask) {
	sub <- subset(cal, mask)
	joint <- svycontrast(svytotal(totals, sub), contrasts)
	est <- coef(joint); v <- diag(vcov(joint))
	# A group whose criteria are all at 1 has every linearised value exactly
	# 0; the delta method leaves rounding noise of about 1e-36 in the
	# variance, sometimes negative: that is a variance of 0.
	stopifnot(all(v > -1e-24))
	se <- ifelse(v < 1e-24, 0, sqrt(pmax(v, 0)))
	for (id in items) {
		r <- svyratio(as.formula(paste0("~s_", key(id))), as.formula(paste0("~a_", key(id))), sub)
		stopifnot(abs(coef(r) - est[[id]]) < 1e-12, abs(SE(r) - se[[id]]) < 1e-12)
		est[[id]] <- coef(r); se[[id]] <- SE(r)
	}
	data.frame(agency = agency, sector = sector, id = names(contrasts),
		   est = unname(est), se = unname(se), stringsAsFactors = FALSE)
}

rows <- list(estimate("", "", rep(TRUE, nrow(d))))
for (a in unique(d$agency)) rows[[length(rows) + 1]] <- estimate(a, "", d$agency == a)
for (s in unique(d$sector)) rows[[length(rows) + 1]] <- estimate("", s, d$sector == s)
write.csv(do.call(rbind, rows), out, row.names = FALSE, na = "")
