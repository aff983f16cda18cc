// Files over the size limit are refused in the browser: dcc.Upload's max_size drops them
// silently, so name them for the user. The limit and the (Chinese) message come from the page
// (data-max / data-message on #up-limits), so no text lives here.
(function () {
    function check(files) {
        var limits = document.getElementById("up-limits");
        if (!limits || !files || !window.dash_clientside || !window.dash_clientside.set_props) {
            return;
        }
        var max = Number(limits.dataset.max);
        var big = [];
        for (var i = 0; i < files.length; i++) {
            if (files[i].size > max) {
                big.push(files[i].name);
            }
        }
        var message = big.length ? limits.dataset.message.replace("{files}", big.join("、")) : null;
        window.dash_clientside.set_props("up-size-note", {children: message});
    }
    function inUpload(target) {
        return target && target.closest && target.closest("#up-upload");
    }
    document.addEventListener("change", function (event) {
        if (inUpload(event.target) && event.target.files) {
            check(event.target.files);
        }
    }, true);
    document.addEventListener("drop", function (event) {
        if (inUpload(event.target) && event.dataTransfer) {
            check(event.dataTransfer.files);
        }
    }, true);
})();
