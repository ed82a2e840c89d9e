"""The Vietnamese text of plan intake: source labels, doubts, messages and command output."""

from __future__ import annotations

# Where a block came from, written into each task's `source:`.
SOURCE_PARAGRAPH = "đoạn {n}"
SOURCE_LINE = "dòng {n}"
SOURCE_PAGE_LINE = "trang {page}, dòng {n}"
SOURCE_ROW = "bảng {table}, dòng {row}"

# Documents that cannot be read.
DOC_FORMAT = (
    "{name}: tệp Word cũ (.doc) chưa đọc được. Mở bằng Word hoặc LibreOffice, "
    "chọn Lưu thành… định dạng .docx rồi chạy lại."
)
SCANNED_PDF = (
    "{name}: tệp PDF không có lớp chữ (bản scan/ảnh chụp). Hãy dùng bản .docx gốc, "
    "hoặc nhận dạng chữ (OCR) trước, ví dụ: ocrmypdf -l vie {name} ban-co-chu.pdf"
)
PDF_UNREADABLE = "{name}: không đọc được tệp PDF ({reason})."
DOCX_UNREADABLE = "{name}: không đọc được tệp .docx ({reason})."
NOT_UTF8 = "{name}: tệp văn bản phải mã hóa UTF-8 (lưu lại với bảng mã UTF-8 rồi chạy lại)."
UNREADABLE_FILE = "{name}: không đọc được tệp ({reason})."
UNKNOWN_FORMAT = "{name}: định dạng chưa hỗ trợ; dùng .docx, .pdf (có lớp chữ), .txt hoặc .md."
NO_UNITS = (
    "Chưa có danh mục đơn vị: nhập bằng `dondoc units import FILE` "
    "hoặc chỉ định tệp bằng --units FILE."
)

# Doubts: a `# KIỂM TRA:` comment on the draft's line, listed again by the command.
DOUBT_MARK = "KIỂM TRA:"
DOUBT_NO_ISSUED = "không thấy ngày ban hành: ghi ngày ký văn bản (YYYY-MM-DD)"
DOUBT_NO_TITLE = "không thấy tên kế hoạch (dòng sau «KẾ HOẠCH»)"
DOUBT_NO_COORDINATOR = "chưa rõ đơn vị đầu mối tổng hợp báo cáo: ghi mã đơn vị"
DOUBT_NO_TASKS = "không tìm thấy nhiệm vụ nào trong tài liệu"
DOUBT_OWNER_UNKNOWN = "không tìm thấy đơn vị «{name}» trong danh mục: ghi mã đơn vị hoặc nhóm"
DOUBT_OWNER_FUZZY = "«{name}» được hiểu là {code} ({unit}): xác nhận"
DOUBT_NO_OWNER = "chưa rõ đơn vị chủ trì"
DOUBT_PARTNER_UNKNOWN = (
    "không tìm thấy đơn vị phối hợp «{name}»: ghi mã, hoặc giữ nguyên nếu là đối tác bên ngoài"
)
DOUBT_NO_DUE = "tài liệu không ghi thời hạn: ghi thời hạn, hoặc «Thường xuyên»"
DOUBT_DUE_UNREADABLE = "dondoc chưa đọc được thời hạn «{due}»: viết lại theo mẫu thời hạn"
DOUBT_SPLIT = "một đoạn có {count} thời hạn, đã tách thành {count} nhiệm vụ ({ids})"

# Command output.
DRAFT_WRITTEN = "Đã viết bản nháp {path}: {tasks} nhiệm vụ, {doubts} chỗ cần kiểm tra."
DOUBTS_HEADER = "Cần kiểm tra (dòng trong bản nháp):"
DOUBT_LINE = "  {path}:{line}: {message}"
NO_DOUBTS = "Không có chỗ nào cần kiểm tra: chạy `dondoc plan validate {path}` rồi `plan import`."

# The draft file's opening comment.
DRAFT_HEADER = (
    "# Bản nháp kế hoạch do `dondoc plan draft` đọc từ {source}.\n"
    "# Xem lại từng dòng đánh dấu KIỂM TRA, sửa rồi xóa chú thích đó; sau đó\n"
    "# `dondoc plan validate` và `dondoc plan import`.\n"
)
PLAN_TITLE_PREFIX = "Kế hoạch"
TITLE_OF_NUMBER = "Kế hoạch số {number}"
