/*
 * rep_method.c - methodology.html of the quarterly report: the formulas
 * in words (docs/scoring.md), so that anyone can reproduce a figure of the
 * report from the responses.  Same self-contained rules as index.html.
 */
#include "rep_report.h"

static const char method_body[] =
	"<section id=\"uoc-luong\">\n<h2>1. Ước lượng</h2>\n"
	"<p><strong>Tỉ lệ hài lòng của một tiêu chí</strong> k trong một nhóm (toàn quý, một cơ quan, một lĩnh vực "
	"hoặc một cặp cơ quan × lĩnh vực) là tỉ số có trọng số p<sub>k</sub> = Σ w·s<sub>k</sub> / Σ w·a<sub>k</sub>, "
	"lấy trên những người trong nhóm đã trả lời tiêu chí: w là trọng số thiết kế của phiếu, "
	"s<sub>k</sub> = 1 khi câu trả lời được tính là hài lòng (với phiếu sipas-2017: 4 hoặc 5 trên thang 1–5), "
	"a<sub>k</sub> = 1 khi có trả lời. Câu bỏ trống không vào cả tử lẫn mẫu; không có giá trị nào được điền thay.</p>\n"
	"<p><strong>Chỉ số của một yếu tố</strong> là trung bình cộng các tiêu chí của yếu tố. "
	"<strong>Chỉ số SIPAS</strong> là trung bình các yếu tố có trọng số theo trọng số yếu tố của phiếu. "
	"Cả hai là tổ hợp tuyến tính c·p của các tỉ lệ tiêu chí. Nếu một tiêu chí không có câu trả lời, "
	"yếu tố và chỉ số dựa trên nó không được tính.</p>\n</section>\n"
	"<section id=\"phuong-sai\">\n<h2>2. Sai số chuẩn: tuyến tính hoá Taylor</h2>\n"
	"<p>Thiết kế mẫu phân tầng, chọn cụm (PSU) có hoàn lại trong mỗi tầng, như gói R <em>survey</em> với "
	"svydesign(ids=~psu, strata=~stratum, weights=~weight, nest=TRUE). Với mỗi phiếu i và tiêu chí k, "
	"biến tuyến tính hoá z<sub>ik</sub> = (s<sub>ik</sub> − p<sub>k</sub>·a<sub>ik</sub>) / X<sub>k</sub>, "
	"trong đó X<sub>k</sub> = Σ w·a<sub>k</sub> của nhóm; z = 0 với phiếu ngoài nhóm (nhóm là miền con của toàn "
	"thiết kế). Tầng h có n<sub>h</sub> PSU góp n<sub>h</sub>/(n<sub>h</sub>−1)·Σ<sub>j</sub> "
	"(Z<sub>hj</sub> − Z̄<sub>h</sub>)(Z<sub>hj</sub> − Z̄<sub>h</sub>)ᵀ, với Z<sub>hj</sub> là tổng có trọng số "
	"của z trong PSU j. Tổng các tầng là ma trận hiệp phương sai Σ của các tỉ lệ; phương sai của yếu tố và chỉ "
	"số là cᵀΣc. Tầng chỉ có một PSU được lấy tâm tại 0 với hệ số 1. Phiếu không ghi PSU là một PSU riêng; "
	"không ghi tầng thì tầng là cơ quan của phiếu.</p>\n</section>\n"
	"<section id=\"khoang\">\n<h2>3. Khoảng tin cậy 95" REP_NBSP "%</h2>\n"
	"<p>Bậc tự do df = số PSU có người trả lời trong nhóm − số tầng có người trả lời trong nhóm; "
	"t là phân vị 0,975 của phân phối Student với df bậc tự do.</p>\n<ul>\n"
	"<li><strong>Logit</strong> (tiêu chí và câu hài lòng chung): khoảng logit(p) ± t·se/(p(1−p)), "
	"đổi ngược về tỉ lệ.</li>\n"
	"<li><strong>Clopper–Pearson</strong>: khi p bằng 0 hoặc 1, hoặc df &lt; 1: khoảng theo phân phối Beta, "
	"tính trên cỡ mẫu hiệu dụng Kish của những người đã trả lời tiêu chí thay cho số lần thử. Với cỡ mẫu có "
	"trọng số, khoảng này là gần đúng, không phải khoảng chính xác của phân phối nhị thức.</li>\n"
	"<li><strong>Wald</strong> (yếu tố và chỉ số SIPAS): p ± t·se, cắt trong [0, 1]; khi df &lt; 1 không có "
	"khoảng. Khi mọi tiêu chí của yếu tố (của chỉ số: mọi tiêu chí) đều bằng 1, hoặc đều bằng 0, phương sai "
	"bằng 0 nên dùng khoảng Clopper–Pearson trên cỡ mẫu hiệu dụng Kish của nhóm.</li>\n</ul>\n"
	"<p>df &lt; 1 khi mỗi tầng có người trả lời của nhóm chỉ có một PSU có người trả lời của nhóm (dù tầng "
	"có thể có nhiều PSU khác): các phiếu của nhóm không cho biết độ biến thiên giữa các PSU, nên không có "
	"sai số chuẩn.</p>\n"
	"<p><strong>Cỡ mẫu hiệu dụng Kish</strong>: n<sub>hd</sub> = (Σw)² / Σw² trên các phiếu của nhóm. Số này "
	"chỉ phản ánh sự chênh lệch trọng số: một mẫu ngẫu nhiên đơn giản n<sub>hd</sub> phiếu có độ chính xác "
	"ngang mẫu có trọng số này nếu các phiếu độc lập với nhau. Nó không tính hiệu ứng chọn cụm (các phiếu "
	"trong cùng PSU giống nhau hơn); hiệu ứng đó chỉ có trong sai số chuẩn và bậc tự do ở trên.</p>\n"
	"</section>\n"
	"<section id=\"ket-luan\">\n<h2>4. Kết luận so với chỉ tiêu</h2>\n"
	"<p>Chỉ tiêu của một nhóm là chỉ tiêu cụ thể nhất còn hiệu lực ở quý cuối của kỳ (cơ quan, rồi lĩnh vực, "
	"rồi chung). Kết luận dựa trên chỉ số SIPAS và khoảng tin cậy 95" REP_NBSP "% [lo; hi]:</p>\n<ul>\n"
	"<li><strong>Đạt</strong>: lo ≥ chỉ tiêu;</li>\n"
	"<li><strong>Chưa đạt</strong>: hi &lt; chỉ tiêu;</li>\n"
	"<li><strong>Chưa đủ cơ sở kết luận</strong>: chỉ tiêu nằm trong khoảng;</li>\n"
	"<li><strong>Chưa đủ dữ liệu</strong>: dưới 30 phiếu, hoặc cỡ mẫu hiệu dụng Kish dưới 30 (trọng số quá "
	"chênh lệch: 112 phiếu với n<sub>hd</sub> = 9 nặng như 9 phiếu đều nhau), hoặc không có khoảng tin cậy "
	"(phiên bản công thức 3; số liệu đã công bố giữ phiên bản của chúng).</li>\n</ul>\n"
	"<p>Thay đổi giữa hai quý được coi là có ý nghĩa khi |Δ| &gt; 1,96·√(se₁² + se₂²), xem hai quý như hai mẫu "
	"độc lập.</p>\n</section>\n"
	"<section id=\"dinh-dang\">\n<h2>5. Cách ghi số</h2>\n"
	"<p>Tỉ lệ ghi theo phần trăm với một chữ số thập phân và dấu phẩy thập phân (87,5" REP_NBSP "%); hàng nghìn "
	"ngăn bằng dấu chấm (1.234); ngày ghi dd/mm/yyyy. Các tệp scores.csv, scores.json và scores.xlsx "
	"có mọi số với đầy đủ độ chính xác, dạng tỉ lệ 0–1.</p>\n</section>\n";

int rep_report_method(const struct rep_report *r, struct strbuf *sb)
{
	rep_page_start(sb, "Phương pháp tính chỉ số SIPAS");
	strbuf_addstr(sb, "<header>\n<h1>Phương pháp tính chỉ số SIPAS</h1>\n<p>Áp dụng cho báo cáo quý ");
	rep_xml_escape(sb, r->period.label);
	strbuf_addstr(sb, ", phiếu ");
	rep_xml_escape(sb, r->form->id);
	strbuf_addstr(sb, ", trọng số thiết kế (design). Mọi số trong báo cáo có thể tính lại từ các phiếu theo "
		      "các công thức dưới đây.</p>\n</header>\n<main>\n");
	strbuf_addstr(sb, method_body);
	rep_page_end(sb);
	return sb->failed ? -1 : 0;
}
